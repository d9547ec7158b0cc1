"""The time engine for schedule rules: cron parsing, expected fire times, judging runs, local calendars.

Pure Python with no SQL, so the rules that use it can be tested without a database and the same
judgement runs whichever database the runs came from.
"""
