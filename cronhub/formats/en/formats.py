"""Date and time spellings of the admin pages: the same in every language (cronhub/clock.py)."""

from cronhub.clock import DATE_FORMAT, DATETIME_FORMAT, TIME_FORMAT

SHORT_DATETIME_FORMAT = DATETIME_FORMAT
SHORT_DATE_FORMAT = DATE_FORMAT
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d"]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"]
FIRST_DAY_OF_WEEK = 1

__all__ = [
    "DATETIME_FORMAT", "DATE_FORMAT", "TIME_FORMAT", "SHORT_DATETIME_FORMAT", "SHORT_DATE_FORMAT",
    "DATE_INPUT_FORMATS", "TIME_INPUT_FORMATS", "DATETIME_INPUT_FORMATS", "FIRST_DAY_OF_WEEK",
]
