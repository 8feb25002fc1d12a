import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from studio.models import Membership, Team


class Command(BaseCommand):
    help = "Create or update a user, create the team if needed, and set the membership."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--team", required=True)
        parser.add_argument("--role", choices=[r for r, _ in Membership.ROLES], default="member")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input.",
        )

    def handle(self, username, team, role, email, password_stdin, **options):
        password = None
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=username)
            if email:
                user.email = email
            if password is not None:
                try:
                    validate_password(password, user)
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from None
                user.set_password(password)
            elif created:
                user.set_unusable_password()
            user.save()
            team_obj, _ = Team.objects.get_or_create(name=team)
            Membership.objects.update_or_create(user=user, team=team_obj, defaults={"role": role})
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} {username}: {role} of {team_obj.name}")
