CREATE TABLE "changes" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "changes_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" uuid NOT NULL,
	"xid" text DEFAULT pg_current_xact_id()::text NOT NULL,
	"kind" text NOT NULL,
	"resource_type" text NOT NULL,
	"subject_uri" text NOT NULL,
	"subject" jsonb NOT NULL,
	"uris" text[] NOT NULL,
	"txn_base" text NOT NULL,
	"op_index" integer,
	"owner" text,
	"feed_id" text,
	"data" jsonb NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "feed_versions" (
	"feed_id" text NOT NULL,
	"version" bigint GENERATED ALWAYS AS IDENTITY (sequence name "feed_versions_version_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"snapshot" text NOT NULL,
	"routing" jsonb NOT NULL,
	CONSTRAINT "feed_versions_feed_id_version_pk" PRIMARY KEY("feed_id","version")
);
--> statement-breakpoint
ALTER TABLE "feed_subjects" ADD COLUMN "added_snapshot" text DEFAULT pg_current_snapshot()::text NOT NULL;--> statement-breakpoint
ALTER TABLE "feed_subjects" ADD COLUMN "removed_snapshot" text;--> statement-breakpoint
ALTER TABLE "txn_ops" ADD COLUMN "sets" jsonb;--> statement-breakpoint
ALTER TABLE "feed_versions" ADD CONSTRAINT "feed_versions_feed_id_feeds_id_fk" FOREIGN KEY ("feed_id") REFERENCES "public"."feeds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- A version of a feed's routing is recorded when the feed is created and whenever one of the
-- columns that decide which changes it gets, and how they are signed, changes; with the snapshot
-- of the statement, so the fan-out routes each change by the version that held when it committed.
CREATE FUNCTION scimcast_feed_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.events_delivered, NEW.resource_types, NEW.default_subjects, NEW.status = 'disabled', NEW.profile, NEW.aud, NEW.kid_mode)
      IS NOT DISTINCT FROM (OLD.events_delivered, OLD.resource_types, OLD.default_subjects, OLD.status = 'disabled', OLD.profile, OLD.aud, OLD.kid_mode) THEN
    RETURN NEW;
  END IF;
  INSERT INTO feed_versions (feed_id, snapshot, routing) VALUES (NEW.id, pg_current_snapshot()::text, jsonb_build_object(
    'eventsDelivered', to_jsonb(NEW.events_delivered), 'resourceTypes', to_jsonb(NEW.resource_types),
    'defaultSubjects', NEW.default_subjects, 'accepting', NEW.status <> 'disabled',
    'profile', NEW.profile, 'aud', NEW.aud, 'kidMode', NEW.kid_mode));
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER feeds_version AFTER INSERT OR UPDATE ON feeds FOR EACH ROW EXECUTE FUNCTION scimcast_feed_version();
--> statement-breakpoint
-- Feeds that exist before this migration route every change written after it: their version's
-- snapshot sees no transaction.
INSERT INTO feed_versions (feed_id, snapshot, routing)
SELECT id, '1:1:', jsonb_build_object(
    'eventsDelivered', to_jsonb(events_delivered), 'resourceTypes', to_jsonb(resource_types),
    'defaultSubjects', default_subjects, 'accepting', status <> 'disabled',
    'profile', profile, 'aud', aud, 'kidMode', kid_mode)
FROM feeds;
