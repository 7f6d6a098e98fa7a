"""Registers the host-process executor with LocalStack (entry point in pyproject.toml).

The import of the executor itself is deferred to ``load`` so that LocalStack's plugin
discovery stays cheap, the same way LocalStack's own Docker executor plugin does it.
"""

from typing import Any

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin


class HostProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    name = "host-process"

    def load(self, *args: Any, **kwargs: Any) -> type:
        from pagewise_host_executor.executor import HostProcessRuntimeExecutor

        return HostProcessRuntimeExecutor
