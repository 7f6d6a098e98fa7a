"""Invoke a deployed function of the local stack with a sample event, without Docker.

    make invoke EVENT=events/PrepareFunction/job.json [JOB=<job id>] [FUNCTION=PrepareFunction]

The function is the event's folder under events/ (its logical id in template.yaml) unless
FUNCTION says otherwise; its deployed name comes from the CloudFormation stack. JOB replaces
the sample job id everywhere in the event, so a state can be run on a real job (e.g. one
`pagewise submit` created). Prints the function's answer and the tail of its log; exits 1 when
the function raised.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "events"))

import generate  # noqa: E402  (events/generate.py: the sample job id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("event", type=Path, help="an events/<Function>/<case>.json file")
    parser.add_argument("--function", help="the logical id (default: the event's folder)")
    parser.add_argument("--job", help="a job id to put in place of the sample one")
    parser.add_argument("--stack", default="pagewise")
    parser.add_argument(
        "--endpoint", default=os.environ.get("PAGEWISE_LOCALSTACK_URL", generate.ENDPOINT)
    )
    args = parser.parse_args(argv)

    logical_id = args.function or args.event.resolve().parent.name
    payload = args.event.read_text()
    if args.job:
        payload = payload.replace(generate.JOB_ID, args.job)
    session = boto3.Session(
        aws_access_key_id="test", aws_secret_access_key="test", region_name=generate.REGION
    )
    cloudformation = session.client("cloudformation", endpoint_url=args.endpoint)
    name = cloudformation.describe_stack_resource(
        StackName=args.stack, LogicalResourceId=logical_id
    )["StackResourceDetail"]["PhysicalResourceId"]
    answer = session.client("lambda", endpoint_url=args.endpoint).invoke(
        FunctionName=name, Payload=payload.encode(), LogType="Tail"
    )
    body = answer["Payload"].read().decode()
    if answer.get("LogResult"):
        print(base64.b64decode(answer["LogResult"]).decode(errors="replace"), file=sys.stderr)
    try:
        print(json.dumps(json.loads(body), indent=2))
    except ValueError:
        print(body)
    return 1 if answer.get("FunctionError") else 0


if __name__ == "__main__":
    sys.exit(main())
