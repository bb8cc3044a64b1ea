-- Up Migration

-- Per organisation (issue 16): the calendar window a windowed transport (Graph calendarView/delta)
-- lists, in whole days around now, and whether a CRM delete may delete (and so cancel) a meeting
-- the mailbox organises with attendees.
ALTER TABLE exchange_settings
  ADD COLUMN calendar_past_days integer NOT NULL DEFAULT 90 CHECK (calendar_past_days BETWEEN 0 AND 1825),
  ADD COLUMN calendar_future_days integer NOT NULL DEFAULT 540 CHECK (calendar_future_days BETWEEN 1 AND 1825),
  ADD COLUMN delete_organizer_meetings boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT exchange_settings_calendar_window_span CHECK (calendar_past_days + calendar_future_days <= 1825);

-- The calendar window each mailbox was last scheduled for: the scheduler makes a mailbox due when
-- its organisation's window moved past it (services/worker/src/scheduler.ts).
ALTER TABLE mailboxes
  ADD COLUMN calendar_window_start timestamptz,
  ADD COLUMN calendar_window_end timestamptz;

-- Down Migration
ALTER TABLE mailboxes DROP COLUMN calendar_window_end, DROP COLUMN calendar_window_start;
ALTER TABLE exchange_settings
  DROP CONSTRAINT exchange_settings_calendar_window_span,
  DROP COLUMN delete_organizer_meetings,
  DROP COLUMN calendar_future_days,
  DROP COLUMN calendar_past_days;
