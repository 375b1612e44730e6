-- A poll leases up to a few hundred events at once; the foreign key from group_pending to
-- consumer_groups cost one referential check (a key-share lock of the group's row) per leased
-- event, about a third of a poll's time in PostgreSQL. Deleting a group deletes its pending rows
-- itself, in the same transaction, after its cursors (see ConsumerGroups.delete).
ALTER TABLE group_pending DROP CONSTRAINT group_pending_tenant_id_topic_group_name_fkey;
