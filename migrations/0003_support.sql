ALTER TABLE `audit_events` ADD `actor` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `detail` text;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `repeats` integer DEFAULT 1 NOT NULL;