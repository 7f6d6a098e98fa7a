"""Step Functions: one execution per job, named by the job id."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


@dataclass(frozen=True)
class ExecutionView:
    execution_arn: str
    state: str
    start_date: datetime | None
    stop_date: datetime | None
    error: str | None
    cause: str | None


class Workflow:
    def __init__(self, state_machine_arn: str, client: SFNClient | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._sfn: SFNClient = client or boto3.client("stepfunctions")

    def execution_arn(self, job_id: str) -> str:
        # arn:aws:states:region:account:stateMachine:name -> ...:execution:name:job_id
        prefix, _, name = self.state_machine_arn.rpartition(":stateMachine:")
        return f"{prefix}:execution:{name}:{job_id}"

    def start(self, job_id: str) -> str:
        """Start the job's execution; a second start for the same job is a no-op.

        The execution name is the job id, so a duplicate S3/SQS event gets
        ExecutionAlreadyExists and nothing runs twice.
        """
        try:
            response = self._sfn.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=job_id,
                input=json.dumps({"job_id": job_id}),
            )
        except self._sfn.exceptions.ExecutionAlreadyExists:
            return self.execution_arn(job_id)
        return response["executionArn"]

    def describe(self, execution_arn: str) -> ExecutionView | None:
        try:
            response = self._sfn.describe_execution(executionArn=execution_arn)
        except self._sfn.exceptions.ExecutionDoesNotExist:
            return None
        return ExecutionView(
            execution_arn=execution_arn,
            state=response["status"],
            start_date=response.get("startDate"),
            stop_date=response.get("stopDate"),
            error=response.get("error"),
            cause=response.get("cause"),
        )

    def history(self, execution_arn: str) -> list[dict[str, Any]] | None:
        """Every event of the execution's history, oldest first; None if it does not exist.

        Paginated (up to 1000 events a call): a long document's Map iterations make
        thousands of events, and a Standard execution may have up to 25,000.
        """
        paginator = self._sfn.get_paginator("get_execution_history")
        events: list[dict[str, Any]] = []
        try:
            for page in paginator.paginate(
                executionArn=execution_arn,
                includeExecutionData=True,  # state inputs name the page of a Map iteration
                PaginationConfig={"PageSize": 1000},
            ):
                events.extend(dict(event) for event in page["events"])
        except self._sfn.exceptions.ExecutionDoesNotExist:
            return None
        return events

    def stop(self, execution_arn: str, cause: str) -> None:
        """Stop a running execution; one that already ended is left as it is."""
        with contextlib.suppress(self._sfn.exceptions.ExecutionDoesNotExist):
            self._sfn.stop_execution(executionArn=execution_arn, error="Cancelled", cause=cause)
