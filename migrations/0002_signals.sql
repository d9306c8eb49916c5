CREATE TABLE `events` (
	`tenant_id` text NOT NULL,
	`seq` integer NOT NULL,
	`id` text NOT NULL,
	`at` text NOT NULL,
	`type` text NOT NULL,
	`actor_kind` text NOT NULL,
	`actor_id` text,
	`resource_type` text NOT NULL,
	`resource_id` text NOT NULL,
	`data` text,
	`receipt_due_at` text,
	`confirmed_at` text,
	`confirmed_via` text,
	`overdue_at` text,
	PRIMARY KEY(`tenant_id`, `seq`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_tenant_id` ON `events` (`tenant_id`,`id`);--> statement-breakpoint
CREATE INDEX `events_tenant_at` ON `events` (`tenant_id`,`at`);--> statement-breakpoint
CREATE INDEX `events_receipt_due` ON `events` (`receipt_due_at`) WHERE confirmed_at IS NULL AND overdue_at IS NULL;--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`tenant_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`seq` integer NOT NULL,
	`order_key` text NOT NULL,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_at` text NOT NULL,
	`lease_until` text,
	`last_status` integer,
	`last_error` text,
	`delivered_at` text,
	PRIMARY KEY(`tenant_id`, `webhook_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_pending` ON `webhook_deliveries` (`tenant_id`,`webhook_id`,`order_key`,`seq`) WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due` ON `webhook_deliveries` (`state`,`next_at`);--> statement-breakpoint
CREATE TABLE `webhook_state` (
	`tenant_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`cursor` integer NOT NULL,
	`failing_since` text,
	`disabled_at` text,
	`last_success_at` text,
	`wake_at` text,
	PRIMARY KEY(`tenant_id`, `webhook_id`)
);
