-- Every node asks every 2 s whether a snooze ran out: an index of the few snoozed
-- conversations answers without reading the others.
CREATE INDEX conversations_snoozed ON conversations (snoozed_until) WHERE snoozed_until IS NOT NULL;
