ALTER TABLE "feeds" ADD COLUMN "callback_txn" text;--> statement-breakpoint
ALTER TABLE "txns" ADD COLUMN "callback_state" jsonb;--> statement-breakpoint
ALTER TABLE "feeds" ADD CONSTRAINT "feeds_callback_txn_txns_id_fk" FOREIGN KEY ("callback_txn") REFERENCES "public"."txns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "feeds_callback_txn" ON "feeds" USING btree ("callback_txn") WHERE "feeds"."callback_txn" is not null;