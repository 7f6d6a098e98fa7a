"""Exit codes (a contract with scripts) and the one error a command reports."""

from __future__ import annotations

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_USAGE = 2
EXIT_AUTH = 3
EXIT_NOT_FOUND = 4
EXIT_API = 5
EXIT_NOT_READY = 6
EXIT_INTERRUPTED = 130

EXIT_CODES = f"""\
exit codes:
  {EXIT_OK}    success
  {EXIT_JOB_FAILED}    the job failed (submit --wait, download); its error is on stderr
  {EXIT_USAGE}    usage: bad arguments, an unreadable or unsupported file, no API URL,
       an --out folder that cannot be written, or a request the API refused (400/413/422)
  {EXIT_AUTH}    authentication: no token, or the API refused it (401/403)
  {EXIT_NOT_FOUND}    not found: no such job for this token's tenant (another tenant's job too)
  {EXIT_API}    the API or S3 failed or could not be reached (5xx, 429, network, timeout)
  {EXIT_NOT_READY}    not ready: download of an unfinished job, or --wait ran past --timeout
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); a submitted job keeps running

configuration (flags win over the environment):
  --api-url / PAGEWISE_API_URL   the API's base URL; default: the local stack's ApiUrl output
  --token   / PAGEWISE_TOKEN     a bearer JWT; default on the local stack: a local token
  --tenant  / PAGEWISE_TENANT    the subject of that local token (default: demo)
"""


class CliError(Exception):
    """A failure to report in one line, with its exit code."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
