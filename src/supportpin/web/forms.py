from django import forms
from django.utils.translation import gettext_lazy as _

from supportpin.lib.problems import Invalid
from supportpin.tickets.search import TERM_LENGTH, Search, search_for
from supportpin.web.pages import attachment_limits, product_word


class CustomerSignInForm(forms.Form):
    login = forms.CharField(
        label=_("Customer number or e-mail"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class StaffSignInForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    otp = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=16,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("Leave empty on your very first sign-in to set up your authenticator."),
    )


class OtpForm(forms.Form):
    otp = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class RedeemForm(forms.Form):
    customer = forms.CharField(label=_("Customer number"), max_length=64)
    pin = forms.CharField(
        label=_("Support-PIN"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )


class QueueSearchForm(forms.Form):
    """The queue's search box; `q` cleans to a tickets.search.Search, or None when empty."""

    q = forms.CharField(
        label=_("Search tickets"),
        max_length=TERM_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text=_(
            "Ticket number, customer number, or words from the subject or the messages. "
            "Each word finds words that begin with it."
        ),
    )

    def clean_q(self) -> Search | None:
        term = self.cleaned_data["q"]
        if not term:
            return None
        try:
            return search_for(term)
        except Invalid as exc:
            raise forms.ValidationError(_("Search for at least one letter or digit.")) from exc


SUBJECT_MAX_LENGTH = 200


class TicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX_LENGTH)
    message = forms.CharField(label=_("Message"), max_length=10000, widget=forms.Textarea)
    products = forms.MultipleChoiceField(
        label=_("Which products is it about? (optional)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "A supporter who takes over the ticket can reach only the products you tick here. "
            "If you tick none, they can reach all your products."
        ),
    )
    follows = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["products"].choices = [
            (p.pk, f"{p.name} ({product_word(p.type)})") for p in products
        ]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of files; the limits are the action's (tickets.attachments.check_files)."""

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(upload, initial) for upload in data]
        return [single(data, initial)] if data else []


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Your message"), max_length=10000, widget=forms.Textarea)
    attachments = MultipleFileField(
        label=_("Attach files"),
        required=False,
        widget=MultipleFileInput(attrs={"aria-label": _("Attach files")}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachment_limits()


class StaffCreateForm(forms.Form):
    username = forms.RegexField(label=_("Username"), regex=r"^[A-Za-z0-9_-]{1,64}$")
    display_name = forms.CharField(label=_("Display name"), max_length=100)
    password = forms.CharField(
        label=_("Initial password"),
        min_length=8,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    role = forms.ChoiceField(
        label=_("Role"), choices=[("supporter", _("Supporter")), ("admin", _("Admin"))]
    )
    email = forms.EmailField(label=_("E-mail (for admin notifications)"), required=False)


class PasswordResetForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


PASSWORD_MIN_LENGTH = 8


class NewPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        min_length=PASSWORD_MIN_LENGTH,
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    repeated = forms.CharField(
        label=_("New password again"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("repeated"):
            self.add_error("repeated", _("The two passwords differ."))
        return data
