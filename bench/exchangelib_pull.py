"""exchangelib's sync_items() pulling one folder with full properties: the independent peer that
`npm run bench` compares exsync against. Reads EWS_URL, EWS_MAILBOX, EWS_ACCESS_TOKEN and
EWS_FOLDER (calendar|contacts) from the environment; prints one JSON line {items, wallMs}.
"""

import json
import os
import time

from exchangelib import IMPERSONATION, OAUTH2, Account, Configuration, Identity, OAuth2Credentials
from oauthlib.oauth2 import OAuth2Token


def main():
    # oauthlib refuses plain-http URLs unless told otherwise; the simulators listen on loopback only.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    mailbox = os.environ["EWS_MAILBOX"]
    token = OAuth2Token({"access_token": os.environ["EWS_ACCESS_TOKEN"], "token_type": "Bearer", "expires_in": 3600})
    credentials = OAuth2Credentials(
        client_id="unused", client_secret="unused", tenant_id=os.environ.get("EWS_TENANT_ID"),
        identity=Identity(primary_smtp_address=mailbox), access_token=token,
    )
    config = Configuration(service_endpoint=os.environ["EWS_URL"], credentials=credentials, auth_type=OAUTH2)
    account = Account(primary_smtp_address=mailbox, config=config, autodiscover=False, access_type=IMPERSONATION)
    folder = account.calendar if os.environ.get("EWS_FOLDER", "calendar") == "calendar" else account.contacts
    started = time.perf_counter()
    items = 0
    # sync_items() with no `only_fields` fetches every field, as exsync's pull does.
    for change_type, _item in folder.sync_items():
        if change_type in ("create", "update"):
            items += 1
    print(json.dumps({"items": items, "wallMs": (time.perf_counter() - started) * 1000}))


if __name__ == "__main__":
    main()
