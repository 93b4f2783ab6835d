ALTER TABLE "group_members" ADD COLUMN "display" text;--> statement-breakpoint
ALTER TABLE "txns" ADD COLUMN "priority" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "txns" ADD COLUMN "callback" text;