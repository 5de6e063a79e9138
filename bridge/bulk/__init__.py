"""Bulk cohorts: a spreadsheet of learners for one course description, checked, then issued.

The parts, each importing only those before it: `wording` (labels and messages, en and lt), `columns`
(the template's columns and how a header cell is recognised), `reading` (a file's bytes to rows of
text, refusing hostile files before any parser sees them), `checking` (rows to learners and per-cell
problems, pure), `files` (templates, refused rows and results written with openpyxl or as CSV), and
`batches` (the registry side: a checked batch, its issuing through the same intake as Moodle's events,
its progress).
"""

# Bulk issuing is a registrar's act (issue 15, "Named staff and roles"): the staff pages (bridge/web/staff_bulk.py)
# and the staff API (bridge/api/bulk.py) both check this one name.
REQUIRED_ROLE = "registrar"
