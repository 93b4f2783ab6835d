CREATE TABLE "api_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"token_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "events" (
	"seq" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"jti" text NOT NULL,
	"feed_id" text NOT NULL,
	"txn" text NOT NULL,
	"event_uri" text NOT NULL,
	"subject_uri" text NOT NULL,
	"jws" text NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"err_code" text,
	"err_description" text,
	"created_at" timestamp (3) with time zone NOT NULL,
	"done_at" timestamp (3) with time zone,
	CONSTRAINT "events_jti_unique" UNIQUE("jti")
);
--> statement-breakpoint
CREATE TABLE "feed_subjects" (
	"feed_id" text NOT NULL,
	"subject_uri" text NOT NULL,
	CONSTRAINT "feed_subjects_feed_id_subject_uri_pk" PRIMARY KEY("feed_id","subject_uri")
);
--> statement-breakpoint
CREATE TABLE "feeds" (
	"id" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"aud" text NOT NULL,
	"description" text,
	"delivery_method" text NOT NULL,
	"endpoint_url" text,
	"authorization_header" text,
	"events_requested" text[] NOT NULL,
	"events_delivered" text[] NOT NULL,
	"profile" text DEFAULT 'rfc9967' NOT NULL,
	"status" text DEFAULT 'enabled' NOT NULL,
	"status_reason" text,
	"resource_types" text[] DEFAULT '{}'::text[] NOT NULL,
	"default_subjects" text DEFAULT 'ALL' NOT NULL,
	"kid_mode" text DEFAULT 'kid' NOT NULL,
	"max_in_flight" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "group_members" (
	"group_id" uuid NOT NULL,
	"member_id" uuid NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "group_members_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	CONSTRAINT "group_members_group_id_member_id_pk" PRIMARY KEY("group_id","member_id")
);
--> statement-breakpoint
CREATE TABLE "resources" (
	"id" uuid PRIMARY KEY NOT NULL,
	"resource_type" text NOT NULL,
	"user_name" text,
	"external_id" text,
	"display_name" text,
	"active" boolean,
	"doc" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created" timestamp (3) with time zone NOT NULL,
	"last_modified" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY NOT NULL,
	"alg" text NOT NULL,
	"private_jwk" jsonb NOT NULL,
	"public_jwk" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "txn_ops" (
	"txn_id" text NOT NULL,
	"op_index" integer NOT NULL,
	"method" text NOT NULL,
	"bulk_id" text,
	"status" text NOT NULL,
	"location" text,
	"version" text,
	"response" jsonb,
	"jti" text,
	"set_jws" text,
	"done_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "txn_ops_txn_id_op_index_pk" PRIMARY KEY("txn_id","op_index")
);
--> statement-breakpoint
CREATE TABLE "txns" (
	"id" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"kind" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"request" jsonb,
	"if_match" text,
	"op_count" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"last_modified" timestamp (3) with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "worker_heartbeats" (
	"worker_id" text PRIMARY KEY NOT NULL,
	"seen_at" timestamp with time zone NOT NULL,
	"graphile_worker_ids" text[] DEFAULT '{}'::text[] NOT NULL
);
--> statement-breakpoint
ALTER TABLE "events" ADD CONSTRAINT "events_feed_id_feeds_id_fk" FOREIGN KEY ("feed_id") REFERENCES "public"."feeds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "feed_subjects" ADD CONSTRAINT "feed_subjects_feed_id_feeds_id_fk" FOREIGN KEY ("feed_id") REFERENCES "public"."feeds"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_group_id_resources_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."resources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "group_members" ADD CONSTRAINT "group_members_member_id_resources_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."resources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "txn_ops" ADD CONSTRAINT "txn_ops_txn_id_txns_id_fk" FOREIGN KEY ("txn_id") REFERENCES "public"."txns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "events_feed_state_seq" ON "events" USING btree ("feed_id","state","seq");--> statement-breakpoint
CREATE INDEX "events_txn" ON "events" USING btree ("txn");--> statement-breakpoint
CREATE INDEX "feeds_owner" ON "feeds" USING btree ("owner");--> statement-breakpoint
CREATE INDEX "group_members_member" ON "group_members" USING btree ("member_id");--> statement-breakpoint
CREATE UNIQUE INDEX "resources_user_name_ci" ON "resources" USING btree (lower("user_name")) WHERE "resources"."resource_type" = 'User';--> statement-breakpoint
CREATE INDEX "resources_type_external_id" ON "resources" USING btree ("resource_type","external_id");--> statement-breakpoint
CREATE INDEX "resources_type_display_name_ci" ON "resources" USING btree ("resource_type",lower("display_name"));--> statement-breakpoint
CREATE INDEX "resources_type_created" ON "resources" USING btree ("resource_type","created","id");--> statement-breakpoint
CREATE INDEX "txns_owner_status" ON "txns" USING btree ("owner","status","created_at");