"""``twiliocore admin``: create users, reset a password and list users, with no service running.

Works on the configured database (``DATABASE_URL``, as the service reads it, or
``--database-url``) after applying the migrations, as the prestart step does, so it also
works on a fresh database. Passwords follow the API's rules (:data:`~.schemas.NewPassword`);
they are read from standard input (``--password-stdin``), typed twice at a terminal, or
generated and printed once. No password is ever logged; only a generated one is printed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from twiliocore_api.models import User

__all__ = ["add_arguments", "run"]

_PROG = "twiliocore admin"
_PAGE = 500


class _Failure(Exception):
    """A refusal to report on standard error with exit status 1."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``admin`` options and its ``create``, ``reset-password`` and ``list``."""
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="the database to work on (default: DATABASE_URL, as the service reads it)",
    )
    actions = parser.add_subparsers(dest="admin_action", metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create a user (an admin with --role admin)",
        description="Create a user. The password comes from --password-stdin, is typed twice "
        "at a terminal, or is generated and printed once.",
    )
    create.add_argument("--email", required=True, help="the new user's e-mail address")
    create.add_argument(
        "--role", choices=["admin", "user"], default="user", help="the user's role (user)"
    )
    _password_option(create)
    reset = actions.add_parser(
        "reset-password",
        help="set a user's password; their login tokens stop working",
        description="Set a user's password; every login token issued before stops working. "
        "The password comes from --password-stdin, is typed twice at a terminal, or is "
        "generated and printed once.",
    )
    reset.add_argument("--email", required=True, help="the user's e-mail address")
    _password_option(reset)
    listing = actions.add_parser(
        "list",
        help="list the users (id, e-mail, role, active, created)",
        description="List the users: id, e-mail, role, active, created.",
    )
    listing.add_argument("--json", action="store_true", help="print a JSON array")


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``twiliocore admin ACTION``; returns the exit status (1 on a refusal, 2 on usage)."""
    action: str | None = args.admin_action
    if action is None:
        print(f"{_PROG}: choose an action: create, reset-password or list", file=sys.stderr)
        return 2
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from twiliocore_api.core.config import load_settings
    from twiliocore_api.core.db import make_engine, make_session_factory
    from twiliocore_api.prestart import migrate

    try:
        overrides = {} if args.database_url is None else {"DATABASE_URL": args.database_url}
        settings = load_settings(**overrides)
    except ValidationError as exc:
        print(f"{_PROG}: invalid settings: {_describe(exc)}", file=sys.stderr)
        return 2
    try:
        engine = make_engine(settings.DATABASE_URL)
    except (SQLAlchemyError, ValueError) as exc:
        print(f"{_PROG}: --database-url / DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    try:
        migrate(engine, timeout=10.0)
        with make_session_factory(engine)() as session:
            if action == "create":
                return _create(session, args)
            if action == "reset-password":
                return _reset_password(session, args)
            return _list(session, as_json=bool(args.json))
    except _Failure as exc:
        print(f"{_PROG} {action}: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        where = engine.url.render_as_string(hide_password=True)
        print(f"{_PROG} {action}: database error on {where}: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _describe(exc: Exception) -> str:
    """A pydantic ``ValidationError`` as ``field: reason; ...`` (never the input value)."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
        for error in exc.errors(include_input=False, include_url=False)
    )


def _checked_password(password: str) -> str:
    """``password`` if the API would accept it as a new password; else :class:`_Failure`."""
    from pydantic import TypeAdapter, ValidationError

    from twiliocore_api.schemas import NewPassword

    try:
        return TypeAdapter(NewPassword).validate_python(password)
    except ValidationError as exc:
        reasons = "; ".join(error["msg"] for error in exc.errors(include_input=False))
        raise _Failure(f"the password is refused: {reasons}") from None


def _new_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password to set and whether it was generated.

    From the first line of standard input (``--password-stdin``), typed twice at a
    terminal, or generated when standard input is not a terminal.
    """
    if args.password_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise _Failure("--password-stdin: standard input held no password")
        return _checked_password(line), False
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        _checked_password(first)
        if getpass.getpass("Repeat it: ") != first:
            raise _Failure("the two passwords typed differ; nothing was changed")
        return first, False
    return secrets.token_urlsafe(18), True


def _create(session: Session, args: argparse.Namespace) -> int:
    from pydantic import EmailStr, TypeAdapter, ValidationError
    from sqlalchemy.exc import IntegrityError

    from twiliocore_api import crud

    try:
        # The type of UserCreate.email, as POST /api/users checks it.
        email = TypeAdapter(EmailStr).validate_python(args.email)
    except ValidationError as exc:
        reasons = "; ".join(error["msg"] for error in exc.errors(include_input=False))
        raise _Failure(f"--email: {reasons}") from None
    email = str(email).strip().lower()
    if crud.get_user_by_email(session, email=email) is not None:
        raise _Failure(
            f"--email: a user with e-mail {email} exists already "
            "(`twiliocore admin reset-password` changes their password)"
        )
    password, generated = _new_password(args)
    try:
        user = crud.create_user(session, email=email, password=password, role=args.role)
    except IntegrityError:
        session.rollback()
        raise _Failure(f"--email: a user with e-mail {email} exists already") from None
    print(f"created {user.role} {user.email} (id {user.id})")
    if generated:
        print(f"generated password (shown once, store it now): {password}")
    return 0


def _reset_password(session: Session, args: argparse.Namespace) -> int:
    from twiliocore_api import crud

    user = crud.get_user_by_email(session, email=args.email)
    if user is None:
        raise _Failure(
            f"--email: no user with e-mail {args.email.strip().lower()} "
            "(`twiliocore admin list` shows them)"
        )
    password, generated = _new_password(args)
    crud.set_password(session, user=user, password=password)
    print(f"password of {user.email} changed; their earlier login tokens no longer work")
    if not user.is_active:
        print(f"note: {user.email} is deactivated and cannot log in until reactivated")
    if generated:
        print(f"generated password (shown once, store it now): {password}")
    return 0


def _all_users(session: Session) -> Iterator[User]:
    from twiliocore_api import crud

    skip = 0
    while True:
        rows, _ = crud.list_users(session, skip=skip, limit=_PAGE)
        yield from rows
        if len(rows) < _PAGE:
            return
        skip += _PAGE


def _list(session: Session, *, as_json: bool) -> int:
    users = [
        {
            "id": user.id,
            "email": user.email,
            "role": user.role,
            "active": bool(user.is_active),
            "created": user.created_at.isoformat() if user.created_at else None,
        }
        for user in _all_users(session)
    ]
    if as_json:
        print(json.dumps(users, indent=2))
        return 0
    if not users:
        print("no users")
        return 0
    width = max(len("E-MAIL"), *(len(str(user["email"])) for user in users))
    print(f"{'ID':>5}  {'E-MAIL':<{width}}  {'ROLE':<5}  {'ACTIVE':<6}  CREATED")
    for user in users:
        active = "yes" if user["active"] else "no"
        print(
            f"{user['id']:>5}  {user['email']!s:<{width}}  {user['role']!s:<5}  "
            f"{active:<6}  {user['created']}"
        )
    return 0
