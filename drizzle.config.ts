import { defineConfig } from 'drizzle-kit';

// drizzle-kit generate needs no database; migrations are applied by the app (src/storage/migrate.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/storage/schema.ts',
  out: './drizzle',
  migrations: { table: '__drizzle_migrations', schema: 'drizzle' },
  strict: true,
});
