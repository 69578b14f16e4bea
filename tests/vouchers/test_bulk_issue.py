"""Bulk issue from an administrator's CSV: a Celery task with progress, row errors by code, safe to rerun."""

from datetime import date

import pytest

from core.models import Notification
from tests.factories import GuardianLinkFactory, StudentFactory, UserFactory
from tests.helpers import assert_problem
from tests.vouchers.conftest import post
from tests.vouchers.factories import issue, make_program
from vouchers import issuing
from vouchers.models import BulkIssueJob, IssueSource, Voucher
from vouchers.tasks import bulk_issue_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def roster(world):
    """Four rows: two children to issue, one who already has a voucher, one too young; then an unknown student."""
    school = world.school
    fresh = [StudentFactory(school=school, student_number=f"HPS-10{i}") for i in range(2)]
    for student in fresh:
        GuardianLinkFactory(student=student)
    issue(world.program, link=world.link)
    baby = StudentFactory(school=school, student_number="HPS-200", date_of_birth=date(2023, 1, 1))
    GuardianLinkFactory(student=baby)
    rows = [(school.code, fresh[0].student_number), (school.code, fresh[1].student_number), (school.code, world.student.student_number), (school.code, baby.student_number), (school.code, "NOPE-1")]
    return "School_Code, Student_Number\n" + "".join(f"{code},{number}\n" for code, number in rows) + "\n"


def create_job(world, csv_text):
    return post(world.admin_client, f"/api/v1/voucher-programs/{world.program.pk}/bulk-issues", {"csv": csv_text})


def job_status(world, job_id):
    response = world.admin_client.get(f"/api/v1/voucher-bulk-issues/{job_id}")
    assert response.status_code == 200
    return response.json()


def test_bulk_issue_runs_in_a_task_with_progress_and_row_errors(world, roster, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as enqueued:
        response = create_job(world, roster)

    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response["Location"] == f"/api/v1/voucher-bulk-issues/{job_id}"
    queued = job_status(world, job_id)
    assert (queued["status"], queued["total_rows"], queued["processed_rows"], queued["progress_percent"]) == ("queued", 5, 0, 0)

    for callback in enqueued:  # after commit, the task runs (eagerly here)
        callback()

    done = job_status(world, job_id)
    assert {key: done[key] for key in ("status", "processed_rows", "progress_percent", "issued_vouchers", "skipped_rows", "failed_rows")} == {
        "status": "completed",
        "processed_rows": 5,
        "progress_percent": 100,
        "issued_vouchers": 2,
        "skipped_rows": 1,
        "failed_rows": 2,
    }
    assert [(error["row"], error["code"]) for error in done["errors"]] == [(5, "not_eligible_age"), (6, "unknown_student")]
    assert Voucher.objects.filter(issue_source=IssueSource.BULK).count() == 2
    assert Notification.objects.filter(kind="voucher_issued").count() == 2


def test_a_job_that_dies_resumes_where_it_stopped_and_issues_nothing_twice(world, roster, monkeypatch):
    job_id = create_job(world, roster).json()["id"]
    real_issue = issuing._issue_locked
    calls = {"n": 0}

    def dies_on_the_second_row(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real_issue(**kwargs)

    monkeypatch.setattr(issuing, "_issue_locked", dies_on_the_second_row)
    with pytest.raises(RuntimeError):
        bulk_issue_run(job_id)
    halfway = job_status(world, job_id)
    assert (halfway["status"], halfway["processed_rows"], halfway["progress_percent"]) == ("running", 1, 20)

    monkeypatch.setattr(issuing, "_issue_locked", real_issue)
    bulk_issue_run(job_id)
    bulk_issue_run(job_id)  # and once more, for good measure

    done = job_status(world, job_id)
    assert (done["status"], done["issued_vouchers"], done["skipped_rows"]) == ("completed", 2, 1)
    assert Voucher.objects.filter(bulk_job_id=job_id).count() == 2


def test_adult_program_rows(world):
    program = make_program(admin=world.admin, beneficiary_kind="adult", min_age_months=216, max_age_months=None, categories=["dining"])
    adult = UserFactory(email="sam@example.com")
    csv_text = "email,date_of_birth,postcode\nsam@example.com,1980-05-05,2000\nnobody@example.com,1980-05-05,2000\n"
    job_id = post(world.admin_client, f"/api/v1/voucher-programs/{program.pk}/bulk-issues", {"csv": csv_text}).json()["id"]

    bulk_issue_run(job_id)

    job = BulkIssueJob.objects.get(pk=job_id)
    assert (job.issued_vouchers, job.failed_rows, job.errors[0]["code"]) == (1, 1, "unknown_user")
    assert Voucher.objects.get(program=program).holder == adult


def test_a_csv_without_the_needed_columns_is_refused_at_once(world):
    body = assert_problem(create_job(world, "name,dob\nMia,2016-04-02\n"), 422, "bulk_csv_invalid")
    assert body["details"] == {"missing_columns": ["school_code", "student_number"]}
    assert_problem(create_job(world, "school_code,student_number\n"), 422, "bulk_csv_invalid")
    assert not BulkIssueJob.objects.exists()


def test_only_the_programs_administrators_bulk_issue(world, client_for):
    from tests.factories import ProgramAdministratorFactory

    other = client_for(ProgramAdministratorFactory().user)
    url = f"/api/v1/voucher-programs/{world.program.pk}/bulk-issues"
    assert_problem(post(other, url, {"csv": "school_code,student_number\nx,y\n"}), 404, "not_found")
    assert_problem(post(world.guardian_client, url, {"csv": "school_code,student_number\nx,y\n"}), 403, "permission_denied")
