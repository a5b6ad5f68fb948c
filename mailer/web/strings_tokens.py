"""The admin app's words for API tokens (``t.tokens``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TokensText:
    title: str = "API tokens"
    intro: str = (
        "Programs call the REST API (/api/v1) with a token, which acts with its role's rights "
        "as a user would. Only a hash of each token is kept: it is shown once, when made. "
        "Tokens made on the command line (mailer tokens create) are listed here too."
    )
    no_tokens: str = "No token yet."
    column_name: str = "Name"
    column_role: str = "Role"
    column_can_send: str = "Can send"
    column_created: str = "Created (UTC)"
    column_created_by: str = "Created by"
    column_last_used: str = "Last used (UTC)"
    column_revoked: str = "Revoked (UTC)"
    column_actions: str = "Actions"
    yes: str = "yes"
    no: str = "no"
    never: str = "never"
    not_revoked: str = "no"
    creator_gone: str = "(no account now)"
    revoke_link: str = "Revoke"
    revoke_label: str = "Revoke {name}"

    create_heading: str = "Create a token"
    name_label: str = "Name"
    name_hint: str = "1-64 of a-z 0-9 _ . - starting with a letter or digit, e.g. deploy-bot."
    role_label: str = "Role"
    role_hint: str = (
        "What the token may do: viewers read; editors also write issues; admins also manage "
        "the audience and campaigns; owners everything."
    )
    can_send_label: str = "Can send campaigns (owners always can, viewers never)"
    create_button: str = "Create token"
    name_missing: str = "give the token a name"
    form_error: str = "The token was not created: see the fields below."

    created_title: str = "Token {name} is created"
    created_copy: str = "Copy the token now: it is shown this once only, and cannot be shown again."
    created_secret_label: str = "Token"
    created_kept: str = (
        "Only its hash is stored. If it is lost, revoke it and create another. Programs send "
        "it as the header Authorization: Bearer <token>."
    )
    created_summary: str = "Role {role}; sends campaigns: {sends}."
    back_to_tokens: str = "Back to the tokens"

    revoke_title: str = "Revoke token {name}?"
    revoke_text: str = (
        "Requests with this token are refused from the moment it is revoked. It stays in the "
        "list, and its name cannot be used again. This cannot be undone."
    )
    revoke_details: str = (
        "Role {role}; created {created} UTC by {created_by}; last used {last_used}."
    )
    revoke_button: str = "Revoke token {name}"
    cancel_link: str = "Keep it"
    revoked: str = "Token {name} is revoked: requests with it are refused from now on."
    revoked_already: str = "Token {name} was revoked already."
    not_found: str = "No token is named {name}."


# The one instance (frozen), the default of ``Strings.tokens``.
TOKENS_TEXT = TokensText()
