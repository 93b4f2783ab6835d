ALTER TABLE "events" ADD COLUMN "misbehaving_streak" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "queued_at" timestamp (3) with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
-- SETs stored before this migration were queued when they were created (issue 7 §4: retention counts from queued_at).
UPDATE "events" SET "queued_at" = "created_at";
