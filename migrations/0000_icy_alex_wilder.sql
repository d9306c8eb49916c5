CREATE TABLE `audit_events` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`at` text NOT NULL,
	`credential_id` text,
	`request_id` text,
	`method` text NOT NULL,
	`path` text NOT NULL,
	`resource_type` text,
	`resource_id` text,
	`action` text NOT NULL,
	`outcome` text NOT NULL,
	`summary` text,
	PRIMARY KEY(`tenant_id`, `id`)
);
--> statement-breakpoint
CREATE INDEX `audit_events_tenant_at` ON `audit_events` (`tenant_id`,`at`);--> statement-breakpoint
CREATE INDEX `audit_events_tenant_resource` ON `audit_events` (`tenant_id`,`resource_id`);--> statement-breakpoint
CREATE TABLE `group_members` (
	`tenant_id` text NOT NULL,
	`group_id` text NOT NULL,
	`member_id` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `group_id`, `member_id`)
);
--> statement-breakpoint
CREATE INDEX `group_members_tenant_member` ON `group_members` (`tenant_id`,`member_id`);--> statement-breakpoint
CREATE TABLE `groups` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`seq` integer NOT NULL,
	`display_name` text NOT NULL,
	`external_id` text,
	`member_count` integer DEFAULT 0 NOT NULL,
	`source` text NOT NULL,
	`version` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`resource` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `groups_tenant_display_name` ON `groups` (`tenant_id`,`display_name`);--> statement-breakpoint
CREATE UNIQUE INDEX `groups_tenant_seq` ON `groups` (`tenant_id`,`seq`);--> statement-breakpoint
CREATE INDEX `groups_tenant_external_id` ON `groups` (`tenant_id`,`external_id`);--> statement-breakpoint
CREATE TABLE `invites` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`user_id` text NOT NULL,
	`token_hash` text,
	`state` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`created_at` text NOT NULL,
	`lease_until` text,
	`sent_at` text,
	`expires_at` text,
	`accepted_at` text,
	PRIMARY KEY(`tenant_id`, `id`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `invites_token_hash` ON `invites` (`token_hash`);--> statement-breakpoint
CREATE INDEX `invites_tenant_user` ON `invites` (`tenant_id`,`user_id`);--> statement-breakpoint
CREATE INDEX `invites_state_created` ON `invites` (`state`,`created_at`);--> statement-breakpoint
CREATE TABLE `page_marks` (
	`tenant_id` text NOT NULL,
	`query_key` text NOT NULL,
	`position` integer NOT NULL,
	`seq` integer NOT NULL,
	`total` integer NOT NULL,
	`expires_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `query_key`, `position`)
);
--> statement-breakpoint
CREATE TABLE `tenant_counts` (
	`tenant_id` text PRIMARY KEY NOT NULL,
	`users` integer DEFAULT 0 NOT NULL,
	`groups` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `user_emails` (
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`value` text NOT NULL,
	`type` text DEFAULT '' NOT NULL,
	`is_primary` integer DEFAULT false NOT NULL,
	PRIMARY KEY(`tenant_id`, `user_id`, `value`, `type`)
);
--> statement-breakpoint
CREATE INDEX `user_emails_tenant_value` ON `user_emails` (`tenant_id`,`value`);--> statement-breakpoint
CREATE TABLE `users` (
	`tenant_id` text NOT NULL,
	`id` text NOT NULL,
	`seq` integer NOT NULL,
	`user_name` text NOT NULL,
	`external_id` text,
	`display_name` text,
	`given_name` text,
	`family_name` text,
	`email` text,
	`employee_number` text,
	`department` text,
	`manager_id` text,
	`active` integer NOT NULL,
	`state` text NOT NULL,
	`state_before_deactivation` text,
	`source` text NOT NULL,
	`version` integer NOT NULL,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL,
	`deleted_at` text,
	`resource` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `id`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `users_tenant_user_name` ON `users` (`tenant_id`,`user_name`) WHERE deleted_at IS NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `users_tenant_seq` ON `users` (`tenant_id`,`seq`);--> statement-breakpoint
CREATE INDEX `users_tenant_external_id` ON `users` (`tenant_id`,`external_id`);--> statement-breakpoint
CREATE INDEX `users_tenant_email` ON `users` (`tenant_id`,`email`);--> statement-breakpoint
CREATE INDEX `users_tenant_updated_at` ON `users` (`tenant_id`,`updated_at`);