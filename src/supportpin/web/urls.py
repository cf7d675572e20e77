from django.urls import path, re_path, register_converter

from supportpin.web.views import (
    admin,
    auth,
    forward_auth,
    passkeys,
    passwords,
    portal,
    support,
    tokens,
)

app_name = "web"


class IdentifierConverter:
    """The provider's ids (customer numbers, product ids): anything else is simply not found."""

    regex = "[A-Za-z0-9_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdentifierConverter, "ident")

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.customer_login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("login/password/", passwords.password_reset, name="password-reset"),
    path(
        "login/password/<ident:number>/<str:token>/",
        passwords.password_reset_link,
        name="password-reset-link",
    ),
    path(
        "staff/password/<int:staff_id>/<str:token>/",
        passwords.staff_password_link,
        name="staff-password-link",
    ),
    path("staff/login/", auth.staff_login, name="staff-login"),
    path("staff/enrol/", auth.staff_enrol, name="staff-enrol"),
    path("staff/login/oidc/", auth.staff_oidc_start, name="staff-oidc-start"),
    path("staff/login/oidc/callback/", auth.staff_oidc_callback, name="staff-oidc-callback"),
    path("staff/login/code/", auth.staff_second_factor, name="staff-second-factor"),
    path("staff/login/passkey/options/", auth.staff_passkey_options, name="staff-passkey-options"),
    path("staff/login/passkey/", auth.staff_passkey_sign_in, name="staff-passkey-sign-in"),
    # customer portal
    path("portal/", portal.products, name="portal-products"),
    path("portal/support/", portal.support, name="portal-support"),
    path("portal/support/panel/", portal.support_panel, name="portal-support-panel"),
    path("portal/support/new/", portal.new_pin, name="portal-new-pin"),
    path("portal/support/grants/<int:grant_id>/revoke/", portal.revoke, name="portal-revoke"),
    path("portal/data/", portal.personal_data, name="portal-data"),
    path("portal/access/", portal.access_log, name="portal-access-log"),
    path("portal/access/<int:entry_id>/proof", portal.access_proof, name="portal-access-proof"),
    path("portal/tickets/", portal.tickets, name="portal-tickets"),
    path("portal/tickets/new/", portal.new_ticket, name="portal-new-ticket"),
    path("portal/tickets/<int:ticket_id>/", portal.ticket, name="portal-ticket"),
    path(
        "portal/tickets/<int:ticket_id>/attachments/<int:attachment_id>/",
        portal.attachment,
        name="portal-attachment",
    ),
    path(
        "portal/tickets/<int:ticket_id>/attachments/<int:attachment_id>/preview/",
        portal.attachment,
        {"preview": True},
        name="portal-attachment-preview",
    ),
    re_path(
        r"^portal/tickets/(?P<ticket_id>[0-9]+)/(?P<change>close|reopen)/$",
        portal.ticket_status,
        name="portal-ticket-status",
    ),
    # supporter panel
    path("support/", support.home, name="support-home"),
    path("support/grants/", support.grants, name="support-grants"),
    path(
        "support/grants/<int:grant_id>/deactivate/", support.deactivate, name="support-deactivate"
    ),
    path("support/customers/<ident:number>/", support.customer, name="support-customer"),
    path("support/products/<ident:product_id>/", support.product, name="support-product"),
    path(
        "support/products/<ident:product_id>/deliveries/",
        support.product_deliveries,
        name="support-product-deliveries",
    ),
    path(
        "support/products/<ident:product_id>/actions/",
        support.product_action,
        name="support-product-action",
    ),
    path("support/tickets/", support.tickets, name="support-tickets"),
    path("support/tickets/<int:ticket_id>/", support.ticket, name="support-ticket"),
    path(
        "support/tickets/<int:ticket_id>/attachments/<int:attachment_id>/",
        support.attachment,
        name="support-attachment",
    ),
    path(
        "support/tickets/<int:ticket_id>/attachments/<int:attachment_id>/preview/",
        support.attachment,
        {"preview": True},
        name="support-attachment-preview",
    ),
    re_path(
        r"^support/tickets/(?P<ticket_id>[0-9]+)/(?P<change>claim|release|close|reopen)/$",
        support.ticket_change,
        name="support-ticket-change",
    ),
    path("support/api-tokens/", tokens.api_tokens, name="staff-api-tokens"),
    path(
        "support/api-tokens/<int:token_id>/revoke/",
        tokens.revoke_api_token,
        name="staff-api-token-revoke",
    ),
    path("support/passkeys/", passkeys.passkey_list, name="staff-passkeys"),
    path(
        "support/passkeys/options/",
        passkeys.registration_options,
        name="staff-passkey-registration-options",
    ),
    path("support/passkeys/new/", passkeys.register, name="staff-passkey-register"),
    path("support/passkeys/<int:passkey_id>/remove/", passkeys.remove, name="staff-passkey-remove"),
    # admin
    path("staff-admin/", admin.staff_list, name="staff-admin"),
    re_path(
        r"^staff-admin/(?P<staff_id>[0-9]+)/(?P<change>unlock|disable|enable|reset-second-factor|reset-password)/$",
        admin.staff_change,
        name="staff-admin-change",
    ),
    path("staff-admin/audit/", admin.audit_status, name="staff-admin-audit"),
    path("auth/forward", forward_auth.forward, name="forward-auth"),
    path("login/link/<str:token>/", auth.sign_in_link, name="sign-in-link"),
]
