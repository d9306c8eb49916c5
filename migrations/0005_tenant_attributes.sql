CREATE TABLE `user_attribute_values` (
	`tenant_id` text NOT NULL,
	`user_id` text NOT NULL,
	`attr` text NOT NULL,
	`value` blob NOT NULL
);
--> statement-breakpoint
CREATE INDEX `user_attribute_values_lookup` ON `user_attribute_values` (`tenant_id`,`attr`,`value`);--> statement-breakpoint
CREATE INDEX `user_attribute_values_user` ON `user_attribute_values` (`tenant_id`,`user_id`);