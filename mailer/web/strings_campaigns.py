"""The words of the admin app's campaign pages (``/admin/campaigns``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CampaignText:
    title: str = "Campaigns"
    intro: str = (
        "Upcoming sends first, then the rest, newest first. A campaign sent from here is sent "
        "by `mailer worker`, which must be running."
    )
    new_link: str = "New campaign"
    none: str = "No campaign yet."
    column_campaign: str = "Campaign"
    column_status: str = "Status"
    column_when: str = "When (local · UTC)"
    column_counts: str = "Sent / total"
    label: str = "#{id} issue {issue} to {list}"
    segment_note: str = "only {segment}"
    local_time_note: str = "each subscriber at {clock} their time"

    new_title: str = "New campaign"
    new_intro: str = (
        "Send an issue to a list now, or schedule it. A scheduled issue is rendered again when "
        "it starts, so later edits go out."
    )
    issue_label: str = "Issue"
    no_issues: str = "There is no issue file to send."
    list_label: str = "List"
    no_lists: str = "There is no list yet."
    segment_label: str = "Segment (optional)"
    segment_hint: str = 'Only members matching it, e.g. country = "CN".'
    count_button: str = "Count recipients"
    audience: str = "{count} recipients would get it now."
    when_legend: str = "When"
    when_now: str = "Now"
    when_at: str = "At a time"
    when_local: str = "At a time of day in each subscriber's own zone"
    at_label: str = "Time"
    at_hint: str = (
        "Like 2026-11-23 09:00, tomorrow 09:00 or +2h. For a time of day in each subscriber's "
        "zone, the day to start from (optional: else now)."
    )
    at_placeholder: str = "tomorrow 09:00"
    timezone_label: str = "Time zone of that time"
    local_time_label: str = "Time of day (HH:MM)"
    again_label: str = "Send even if the list got this issue already"
    already_sent: str = (
        "{problem}. Tick “Send even if the list got this issue already” to send it anyway."
    )
    allow_draft_label: str = "Send even if the issue is marked a draft"
    draft_issue: str = (
        "{problem}. Tick “Send even if the issue is marked a draft” to send it anyway."
    )
    create_button: str = "Send or schedule"
    draft_button: str = "Save as draft"
    draft_note: str = (
        "A draft is sent by nobody until someone who may send sends or schedules it; its "
        "time, if given, is only a plan."
    )
    edit_title: str = "Edit draft #{id}"
    draft_audience: str = "{count} recipients would get it now; counted again when it goes out."
    draft_audience_unknown: str = "Its list or segment cannot be counted now."
    planned_row: str = "Planned for"
    audience_row: str = "Audience"
    schedule_at_label: str = "Time (empty: the draft's own)"
    delete_confirm: str = "Delete draft {id}? Nothing of it is kept."
    created_now: str = "Campaign {id} is sending to {count} recipients; `mailer worker` sends it."
    created_later: str = "Campaign {id} is scheduled for {when}."

    details_heading: str = "Details"
    issue_row: str = "Issue"
    subject_row: str = "Subject"
    list_row: str = "List"
    segment_row: str = "Segment"
    transport_row: str = "Sent through"
    status_row: str = "Status"
    message_row: str = "Last news"
    scheduled_row: str = "Due"
    started_row: str = "Started"
    finished_row: str = "Finished"
    created_row: str = "Created"
    local_time_row: str = "Delivered at"
    progress_heading: str = "Progress"
    progress_live: str = "Updated every 2 seconds while it is sending."
    refresh_link: str = "Refresh"
    actions_heading: str = "Actions"
    no_actions: str = "Nothing can be done to it now."
    reschedule_at_label: str = "New time"
    buttons: tuple[tuple[str, str], ...] = (
        ("edit", "Edit"),
        ("send", "Send now"),
        ("schedule", "Schedule"),
        ("delete", "Delete draft"),
        ("pause", "Pause"),
        ("resume", "Resume"),
        ("reschedule", "Reschedule"),
        ("cancel", "Cancel campaign"),
        ("resend", "Resend the recipients in doubt"),
        ("mark_sent", "Count the recipients in doubt as sent"),
    )
    cancel_confirm: str = "Cancel campaign {id} for good? What was sent stays sent."
    done: tuple[tuple[str, str], ...] = (
        ("edit", "Draft {id} is saved."),
        ("send", "Campaign {id} is sending; `mailer worker` sends it."),
        ("schedule", "Campaign {id} is scheduled."),
        ("pause", "Campaign {id} is paused."),
        ("resume", "Campaign {id} is {status} again."),
        ("reschedule", "Campaign {id} is rescheduled."),
        ("cancel", "Campaign {id} is cancelled."),
        ("resend", "Campaign {id}: the recipients in doubt are sent to again."),
        ("mark_sent", "Campaign {id}: the recipients in doubt are counted as sent."),
    )
    counts: tuple[tuple[str, str], ...] = (
        ("total", "Recipients"),
        ("sent", "Sent"),
        ("pending", "To send"),
        ("waiting", "Waiting for their time"),
        ("in_flight", "Being sent"),
        ("in_doubt", "In doubt"),
        ("failed", "Failed"),
        ("skipped", "Skipped"),
    )

    def button(self, action: str) -> str:
        return dict(self.buttons).get(action, action)

    def done_text(self, action: str) -> str:
        return dict(self.done).get(action, "{id}")


CAMPAIGN_TEXT = CampaignText()
