CREATE TABLE `catalog_entries` (
	`tenant_id` text NOT NULL,
	`type` text NOT NULL,
	`id` text NOT NULL,
	`seq` integer NOT NULL,
	`display_name` text NOT NULL,
	`seat_limit` integer,
	`seats_used` integer DEFAULT 0 NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`resource` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `type`, `id`),
	CONSTRAINT "catalog_seats_within_limit" CHECK("catalog_entries"."seat_limit" IS NULL OR "catalog_entries"."seats_used" <= "catalog_entries"."seat_limit")
);
--> statement-breakpoint
CREATE UNIQUE INDEX `catalog_entries_tenant_seq` ON `catalog_entries` (`tenant_id`,`seq`);