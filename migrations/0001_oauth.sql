CREATE TABLE `credential_use` (
	`tenant_id` text NOT NULL,
	`credential_id` text NOT NULL,
	`used_on` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `credential_id`)
);
--> statement-breakpoint
CREATE TABLE `used_assertions` (
	`tenant_id` text NOT NULL,
	`issuer` text NOT NULL,
	`jti` text NOT NULL,
	`expires_at` text NOT NULL,
	PRIMARY KEY(`tenant_id`, `issuer`, `jti`)
);
--> statement-breakpoint
CREATE INDEX `used_assertions_expires` ON `used_assertions` (`expires_at`);