"""A scripted exchangelib session against the EWS simulator (the second, independent EWS client).

Run by tests/ews-sim/exchangelib.test.ts with EWS_URL, EWS_MAILBOX and EWS_ACCESS_TOKEN (an app-only
token from the Entra simulator) in the environment. Prints one JSON document describing what it saw;
the TypeScript test asserts on it and on the simulator's store.
"""

import datetime
import json
import os
import sys

from exchangelib import (
    IMPERSONATION,
    OAUTH2,
    Account,
    CalendarItem,
    Configuration,
    Contact,
    EWSDateTime,
    EWSTimeZone,
    Identity,
    OAuth2Credentials,
)
from exchangelib.indexed_properties import EmailAddress, PhoneNumber
from exchangelib.recurrence import Recurrence, WeeklyPattern
from oauthlib.oauth2 import OAuth2Token


def sync_summary(folder):
    """Drains sync_items() and returns [change_type, subject-or-id] pairs."""
    out = []
    for change_type, item in folder.sync_items():
        if change_type == "delete":
            out.append([change_type, item.id if hasattr(item, "id") else str(item)])
        else:
            out.append([change_type, getattr(item, "subject", None) or getattr(item, "display_name", None)])
    return out


class SimulatorOAuth2Credentials(OAuth2Credentials):
    """Fetches or refreshes tokens from the Entra simulator instead of login.microsoftonline.com."""

    @property
    def token_url(self):
        return os.environ["EWS_TOKEN_URL"]


def main():
    # oauthlib refuses plain-http token and resource URLs unless told otherwise; the simulators
    # listen on loopback only.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    url = os.environ["EWS_URL"]
    mailbox = os.environ["EWS_MAILBOX"]
    token = OAuth2Token({"access_token": os.environ["EWS_ACCESS_TOKEN"], "token_type": "Bearer", "expires_in": 3600})
    credentials = SimulatorOAuth2Credentials(
        client_id=os.environ.get("EWS_CLIENT_ID", "unused"),
        client_secret=os.environ.get("EWS_CLIENT_SECRET", "unused"),
        tenant_id=os.environ.get("EWS_TENANT_ID"),
        identity=Identity(primary_smtp_address=mailbox),
        access_token=token,
    )
    config = Configuration(service_endpoint=url, credentials=credentials, auth_type=OAUTH2)
    account = Account(primary_smtp_address=mailbox, config=config, autodiscover=False, access_type=IMPERSONATION)
    utc = EWSTimeZone("UTC")
    report = {"version": str(account.version.build)}

    report["calendar_sync_initial"] = sync_summary(account.calendar)
    report["contacts_sync_initial"] = sync_summary(account.contacts)

    start = EWSDateTime(2026, 9, 7, 9, 0, tzinfo=utc)
    single = CalendarItem(
        account=account,
        folder=account.calendar,
        subject="exchangelib single",
        body="created by exchangelib",
        location="Room 3",
        start=start,
        end=start + datetime.timedelta(hours=1),
    )
    single.save(send_meeting_invitations="SendToNone")

    series = CalendarItem(
        account=account,
        folder=account.calendar,
        subject="exchangelib weekly",
        start=start + datetime.timedelta(hours=3),
        end=start + datetime.timedelta(hours=4),
        recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=[1]), start=start.date(), number=5),
    )
    series.save(send_meeting_invitations="SendToNone")

    second = series.occurrence(index=2)
    second.refresh()
    report["occurrence_2_start"] = second.start.isoformat()
    second.subject = "exchangelib weekly (moved)"
    second.start = second.start + datetime.timedelta(hours=1)
    second.end = second.end + datetime.timedelta(hours=1)
    second.save(update_fields=["subject", "start", "end"], send_meeting_invitations="SendToNone")

    fetched = account.calendar.get(id=series.id)
    report["series"] = {
        "subject": fetched.subject,
        "type": fetched.type,
        "recurrence": str(fetched.recurrence),
        "modified_occurrences": len(fetched.modified_occurrences or []),
        "first_occurrence": fetched.first_occurrence.start.isoformat() if fetched.first_occurrence else None,
        "last_occurrence": fetched.last_occurrence.start.isoformat() if fetched.last_occurrence else None,
    }

    contact = Contact(
        account=account,
        folder=account.contacts,
        display_name="Grace Hopper",
        given_name="Grace",
        surname="Hopper",
        company_name="Navy",
        email_addresses=[EmailAddress(email="grace@example.net", label="EmailAddress1")],
        phone_numbers=[PhoneNumber(label="BusinessPhone", phone_number="+1 555 0101")],
    )
    contact.save()
    got = account.contacts.get(id=contact.id)
    report["contact"] = {
        "display_name": got.display_name,
        "emails": [e.email for e in (got.email_addresses or [])],
        "phones": [[p.label, p.phone_number] for p in (got.phone_numbers or [])],
    }

    report["calendar_sync_after_create"] = sync_summary(account.calendar)
    report["contacts_sync_after_create"] = sync_summary(account.contacts)

    single.subject = "exchangelib single (renamed)"
    single.save(update_fields=["subject"], send_meeting_invitations="SendToNone")
    contact.job_title = "Rear Admiral"
    contact.save(update_fields=["job_title"])
    report["calendar_sync_after_update"] = sync_summary(account.calendar)
    report["contacts_sync_after_update"] = sync_summary(account.contacts)
    report["in_view"] = sorted(
        i.subject
        for i in account.calendar.view(start=start - datetime.timedelta(days=1), end=start + datetime.timedelta(days=40))
    )

    single.delete(send_meeting_cancellations="SendToNone")
    series.delete(send_meeting_cancellations="SendToNone")
    contact.delete()
    report["calendar_sync_after_delete"] = [c[0] for c in sync_summary(account.calendar)]
    report["contacts_sync_after_delete"] = [c[0] for c in sync_summary(account.contacts)]
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
