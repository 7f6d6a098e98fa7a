"""Step Functions: one execution per job, named by the job id."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

LOG = logging.getLogger(__name__)


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

        The page Maps are Distributed: each page's events are in a child execution's history.
        Those are spliced in after their Map's MapRunStarted as Inline Map iterations
        (see :func:`splice_map_runs`), so a reader sees one history as with Inline Maps.
        """
        events = self._events(execution_arn)
        if events is None:
            return None
        return splice_map_runs(events, self._map_run_histories)

    def _events(self, execution_arn: str) -> list[dict[str, Any]] | None:
        # Paginated (up to 1000 events a call).
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

    def _map_run_histories(self, map_run_arn: str) -> list[list[dict[str, Any]]]:
        """The histories of a Map Run's child executions, in the order they started; none
        when they cannot be read (the job's own history is still worth showing)."""
        children: list[dict[str, Any]] = []
        paginator = self._sfn.get_paginator("list_executions")
        try:
            for page in paginator.paginate(mapRunArn=map_run_arn):
                children.extend(dict(child) for child in page["executions"])
            children.sort(key=lambda child: child["startDate"])
            with ThreadPoolExecutor(max_workers=8) as pool:
                arns = [child["executionArn"] for child in children]
                return [history for history in pool.map(self._events, arns) if history]
        except ClientError as error:  # e.g. the role may not read child executions
            LOG.warning("the child executions of %s cannot be read: %s", map_run_arn, error)
            return []

    def stop(self, execution_arn: str, cause: str) -> None:
        """Stop a running execution; one that already ended is left as it is."""
        with contextlib.suppress(self._sfn.exceptions.ExecutionDoesNotExist):
            self._sfn.stop_execution(executionArn=execution_arn, error="Cancelled", cause=cause)


_CHILD_ENDS = {
    "ExecutionSucceeded": "MapIterationSucceeded",
    "ExecutionFailed": "MapIterationFailed",
    "ExecutionAborted": "MapIterationAborted",
    "ExecutionTimedOut": "MapIterationAborted",
}


def splice_map_runs(
    events: list[dict[str, Any]],
    child_histories: Callable[[str], list[list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    """``events`` with, after each MapRunStarted, the events of its child executions written
    as the iterations of an Inline Map (MapIterationStarted ... MapIterationSucceeded), ids
    renumbered so that each event's previousEventId still points at the event it follows."""
    spliced: list[dict[str, Any]] = []
    new_ids: dict[int, int] = {}

    def add(event: dict[str, Any], ids: dict[int, int], previous: int | None = None) -> int:
        new_id = len(spliced) + 1
        ids[int(event["id"])] = new_id
        if previous is None:
            previous = ids.get(int(event.get("previousEventId") or 0), 0)
        spliced.append({**event, "id": new_id, "previousEventId": previous})
        return new_id

    map_name = ""
    for event in sorted(events, key=lambda item: int(item["id"])):
        if event["type"] == "MapStateEntered":
            map_name = str(event.get("stateEnteredEventDetails", {}).get("name", ""))
        run_started = add(event, new_ids)
        if event["type"] != "MapRunStarted":
            continue
        arn = event.get("mapRunStartedEventDetails", {}).get("mapRunArn")
        for index, history in enumerate(child_histories(arn) if arn else []):
            child_ids: dict[int, int] = {}
            for child in sorted(history, key=lambda item: int(item["id"])):
                kind = str(child["type"])
                base = {"id": child["id"], "timestamp": child["timestamp"]}
                marker = {"name": map_name, "index": index}
                if kind == "ExecutionStarted":
                    started = {**base, "type": "MapIterationStarted"}
                    add(
                        {**started, "mapIterationStartedEventDetails": marker},
                        child_ids,
                        run_started,
                    )
                elif kind in _CHILD_ENDS:
                    ended = {
                        **base,
                        "type": _CHILD_ENDS[kind],
                        "previousEventId": child.get("previousEventId"),
                    }
                    add({**ended, "mapIterationEventDetails": marker}, child_ids)
                else:
                    add(child, child_ids)
    return spliced
