"""Who may call a view at all. Which objects they reach is decided by the view's
queryset (through the selectors), so another tenant's object is a 404, never a 403."""

from rest_framework.permissions import BasePermission

from guardians.selectors import guardian_for_user, staff_for_user


def _is_person(request) -> bool:
    user = request.user
    return user is not None and getattr(user, "is_authenticated", False) and not getattr(user, "is_terminal", False)


class IsGuardian(BasePermission):
    message = "Only guardians can do this."

    def has_permission(self, request, view):
        return _is_person(request) and guardian_for_user(request.user) is not None


class IsSchoolStaff(BasePermission):
    """Any staff member; views that need a particular role use `StaffWithRole`."""

    message = "Only school staff can do this."

    def has_permission(self, request, view):
        return _is_person(request) and staff_for_user(request.user) is not None


def StaffWithRole(*roles: str):  # noqa: N802 - reads like a class in permission_classes
    class _StaffWithRole(BasePermission):
        message = f"Only school staff with the role {' or '.join(roles)} can do this."

        def has_permission(self, request, view):
            staff = staff_for_user(request.user) if _is_person(request) else None
            return staff is not None and staff.has_role(*roles)

    _StaffWithRole.__name__ = f"StaffWithRole_{'_'.join(roles)}"
    return _StaffWithRole


class IsGuardianOrStaff(BasePermission):
    message = "Only guardians and school staff can do this."

    def has_permission(self, request, view):
        return _is_person(request) and (
            guardian_for_user(request.user) is not None or staff_for_user(request.user) is not None
        )


class IsProgramAdministrator(BasePermission):
    message = "Only program administrators can do this."

    def has_permission(self, request, view):
        return _is_person(request) and hasattr(request.user, "program_admin")


class IsMerchantAdministrator(BasePermission):
    message = "Only a merchant's administrators can do this."

    def has_permission(self, request, view):
        return _is_person(request) and hasattr(request.user, "merchant_admin")


class IsPerson(BasePermission):
    message = "Sign in as a person (not a terminal) to do this."

    def has_permission(self, request, view):
        return _is_person(request)


class IsPlatformStaff(BasePermission):
    """The platform operator's own people (Django's `is_staff`): platform finance, support."""

    message = "Only platform staff can do this."

    def has_permission(self, request, view):
        return _is_person(request) and request.user.is_staff


class IsTerminal(BasePermission):
    message = "Only a merchant terminal can do this."

    def has_permission(self, request, view):
        return getattr(request.user, "is_terminal", False)


class ReadsAuditLog(BasePermission):
    message = "Only a school's admins and platform staff can read the audit log."

    def has_permission(self, request, view):
        from audit.selectors import audit_log_reader

        return audit_log_reader(request.user)
