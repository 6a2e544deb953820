# Smtpkit.py: PyGObject overrides of libsmtpkit for smtplib habits.
#
# - sendmail(), sendmail_stream() and send_message() take a str
#   recipient as a list of one, and sendmail() a str (ASCII, as
#   smtplib) or bytes message as well as GLib.Bytes; the options and
#   the cancellable are optional. They still return a SendResult.
# - sendmail_refused() returns what smtplib's sendmail() does: a dict
#   {address: (code, text)} of the refused recipients.
# - A Client is a context manager: "with" quits (or closes) at the end.
# - Errors of the SMTPKIT_ERROR domain, from every call that talks to the
#   server, blocking or _finish(), are raised as Smtpkit.SMTPError, a
#   GLib.Error that carries smtp_code, smtp_error (bytes), sender and
#   recipients ({address: (code, text)}), read from the client's
#   get_last_error_*() accessors.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import functools

from gi.repository import GLib, Gio

from ..module import get_introspection_module
from ..overrides import override

Smtpkit = get_introspection_module("Smtpkit")

__all__ = []


def _reply_tuple(reply):
    return (reply.get_code(), reply.get_text().encode("utf-8")) if reply else (None, None)


class SMTPError(GLib.Error):
    """A GLib.Error of SMTPKIT_ERROR with what smtplib's exceptions carry."""

    smtp_code = None
    smtp_error = None
    sender = None
    recipients = None


__all__.append("SMTPError")


def _details(client, error):
    if not error.matches(Smtpkit.error_quark(), error.code):
        return error
    rich = SMTPError(error.message, error.domain, error.code)
    rich.smtp_code, rich.smtp_error = _reply_tuple(client.get_last_error_reply())
    rich.sender = client.get_last_error_sender()
    rich.recipients = {address: _reply_tuple(client.get_last_error_recipient_reply(address))
                       for address in client.get_last_error_recipients() or []}
    return rich


def _raising_details(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except GLib.Error as e:
            rich = _details(self, e)
            if rich is e:
                raise
            raise rich from None
    return wrapper


def _addresses(to_addrs):
    return [to_addrs] if isinstance(to_addrs, str) else list(to_addrs)


def _bytes(message):
    if isinstance(message, str):
        message = message.encode("ascii")
    if isinstance(message, (bytes, bytearray, memoryview)):
        message = GLib.Bytes.new(bytes(message))
    return message


# Every call that talks to the server, blocking or the _finish () of its
# _async (): sendmail (), sendmail_stream () and send_message () are
# wrapped below, where they take smtplib's arguments. Not
# set_local_hostname () and set_timeout (), which only check their
# argument: the client's last error is not theirs.
_CALLS = ["connect_to_host", "helo", "ehlo", "ehlo_or_helo_if_needed", "docmd", "noop",
          "rset", "help", "verify", "expn", "mail", "rcpt", "data", "quit", "starttls",
          "login", "auth", "send"]
_FINISH_CALLS = ["connect_finish", "helo_finish", "ehlo_finish",
                 "ehlo_or_helo_if_needed_finish", "docmd_finish", "noop_finish",
                 "rset_finish", "help_finish", "verify_finish", "expn_finish", "mail_finish",
                 "rcpt_finish", "data_finish", "quit_finish", "starttls_finish",
                 "login_finish", "auth_finish", "send_finish", "sendmail_finish",
                 "sendmail_stream_finish", "send_message_finish"]


class Client(Smtpkit.Client):
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        # As smtplib: QUIT if still connected, and close in any case.
        try:
            if self.is_connected():
                Smtpkit.Client.quit(self, None)
        except GLib.Error:
            pass
        finally:
            self.close()

    @_raising_details
    def sendmail(self, from_addr, to_addrs, msg, mail_options=None, rcpt_options=None,
                 cancellable=None):
        return Smtpkit.Client.sendmail(self, from_addr, _addresses(to_addrs), _bytes(msg),
                                       list(mail_options or []) or None,
                                       list(rcpt_options or []) or None, cancellable)

    def sendmail_refused(self, from_addr, to_addrs, msg, mail_options=None, rcpt_options=None,
                         cancellable=None):
        """smtplib's sendmail(): the refused recipients as {address: (code, text)}."""
        result = self.sendmail(from_addr, to_addrs, msg, mail_options, rcpt_options, cancellable)
        return {address: _reply_tuple(result.get_refused_reply(address))
                for address in result.get_refused_addresses()}

    @_raising_details
    def sendmail_stream(self, from_addr, to_addrs, stream, mail_options=None,
                        rcpt_options=None, cancellable=None):
        return Smtpkit.Client.sendmail_stream(self, from_addr, _addresses(to_addrs), stream,
                                              list(mail_options or []) or None,
                                              list(rcpt_options or []) or None, cancellable)

    @_raising_details
    def send_message(self, msg, from_addr=None, to_addrs=None, mail_options=None,
                     rcpt_options=None, cancellable=None):
        return Smtpkit.Client.send_message(self, msg, from_addr,
                                           None if to_addrs is None else _addresses(to_addrs),
                                           list(mail_options or []) or None,
                                           list(rcpt_options or []) or None, cancellable)


for _name in _CALLS + _FINISH_CALLS:
    setattr(Client, _name, _raising_details(getattr(Smtpkit.Client, _name)))

Client = override(Client)
__all__.append("Client")
