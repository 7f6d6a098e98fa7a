#!/usr/bin/env bash
# The local stack: LocalStack (with the host-process Lambda executor) and SecantusDB, both on
# 127.0.0.1 only, and the SAM deployment of template.yaml onto them.
#
#   stack.sh setup     create the venvs (idempotent)
#   stack.sh start     start LocalStack and SecantusDB unless they already run, wait for health
#   stack.sh deploy    sam build + sam deploy --config-env localstack
#   stack.sh up        setup + start + deploy
#   stack.sh down      stop exactly what start started, by PID
#   stack.sh outputs   the stack outputs as JSON
#   stack.sh env       the shell exports that point AWS clients at the local stack
#   stack.sh running   exit 0 if both servers started by this script are running
#   stack.sh mongo-stop / mongo-start   stop or start SecantusDB alone (its data survives)
#   stack.sh redrive   move the ingest dead-letter queue's messages back to the uploads queue
#   stack.sh python V  the path of a Python V interpreter (pyenv or PATH)
#
# State, logs and PID files: $PAGEWISE_HOME (default .pagewise/, git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
HOME_DIR="${PAGEWISE_HOME:-$ROOT/.pagewise}"
VENVS="$ROOT/.venvs"
LOCALSTACK_PORT="${LOCALSTACK_PORT:-4566}"
MONGO_PORT="${MONGO_PORT:-27017}"
STACK_NAME="${STACK_NAME:-pagewise}"
REGION="${AWS_DEFAULT_REGION:-us-east-1}"
# LocalStack's pinned release; newer dependency releases break it.
LOCALSTACK_VERSION="2026.3.0"
LOCALSTACK_EXCLUDE_NEWER="2026-03-24"

log() { printf '\033[1m[stack]\033[0m %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION="$REGION"
export AWS_ENDPOINT_URL="http://127.0.0.1:$LOCALSTACK_PORT"
export SAM_CLI_TELEMETRY=0

python_for() { # python_for 3.13 -> path of an interpreter of that version
  local version="$1" candidate
  for candidate in "$HOME/.pyenv/versions/$version"*/bin/python3 "$(command -v "python$version" 2>/dev/null || true)"; do
    if [ -x "$candidate" ] && "$candidate" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$version'.split('.')))" 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  die "no Python $version found (pyenv versions or python$version on PATH)"
}

uv() {
  if [ ! -x "$VENVS/uv/bin/uv" ]; then
    python3 -m venv "$VENVS/uv" && "$VENVS/uv/bin/pip" install -q uv
  fi
  "$VENVS/uv/bin/uv" "$@"
}

make_venv() { # make_venv NAME PYTHON_VERSION
  local name="$1" version="$2"
  [ -x "$VENVS/$name/bin/python" ] || uv venv -q -p "$(python_for "$version")" "$VENVS/$name"
}

cmd_setup() {
  mkdir -p "$VENVS"
  make_venv localstack 3.13
  uv pip install -q -p "$VENVS/localstack" --exclude-newer "$LOCALSTACK_EXCLUDE_NEWER" \
    "localstack-core[runtime]==$LOCALSTACK_VERSION" -e "$ROOT/localstack/host_executor" \
    --reinstall-package pagewise-host-executor  # its entry points come from its metadata
  # The interpreter Lambda functions run on: what the AWS Python runtime provides, no more.
  make_venv lambda-python 3.13
  uv pip install -q -p "$VENVS/lambda-python" boto3
  # SecantusDB publishes wheels for Python 3.11/3.12.
  make_venv secantus 3.12
  # Pinned: localstack/secantusd.py patches one of its methods.
  uv pip install -q -p "$VENVS/secantus" secantusdb==0.7.0b3
  make_venv sam 3.13
  uv pip install -q -p "$VENVS/sam" aws-sam-cli
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds="$1" what="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what not healthy after ${seconds}s (logs: $HOME_DIR/logs)"
    sleep 0.5
  done
}

localstack_healthy() {
  curl -sf "http://127.0.0.1:$LOCALSTACK_PORT/_localstack/health" | "$VENVS/lambda-python/bin/python" -c '
import json, sys
services = json.load(sys.stdin)["services"]
wanted = ("s3", "sqs", "lambda", "stepfunctions", "apigateway", "cloudformation")
sys.exit(0 if all(services.get(name) in ("available", "running") for name in wanted) else 1)'
}

mongo_healthy() {
  "$VENVS/lambda-python/bin/python" - "$MONGO_PORT" <<'EOF'
import socket, struct, sys
# A raw OP_MSG {ping: 1}: the runtime venv has no pymongo, and a ping needs nothing more.
def cstring(text): return text.encode() + b"\0"
elements = b"\x10" + cstring("ping") + struct.pack("<i", 1)
elements += b"\x02" + cstring("$db") + struct.pack("<i", 6) + cstring("admin")
document = struct.pack("<i", 4 + len(elements) + 1) + elements + b"\0"
message = struct.pack("<I", 0) + b"\x00" + document
header = struct.pack("<iiii", 16 + len(message), 1, 0, 2013)
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as sock:
    sock.sendall(header + message)
    reply = sock.recv(4096)
    sys.exit(0 if len(reply) > 16 and b"ok" in reply else 1)
EOF
}

start_mongo() {
  if pid_alive "$HOME_DIR/pids/secantus.pid"; then log "SecantusDB already running"; return; fi
  mkdir -p "$HOME_DIR/mongo" "$HOME_DIR/logs" "$HOME_DIR/pids"
  log "starting SecantusDB on 127.0.0.1:$MONGO_PORT"
  # localstack/secantusd.py: SecantusDB's server with its findAndModify planner fix.
  nohup "$VENVS/secantus/bin/python" "$ROOT/localstack/secantusd.py" --host 127.0.0.1 --port "$MONGO_PORT" \
    --storage-path "$HOME_DIR/mongo" >"$HOME_DIR/logs/secantus.log" 2>&1 &
  echo $! >"$HOME_DIR/pids/secantus.pid"
}

start_localstack() {
  if pid_alive "$HOME_DIR/pids/localstack.pid"; then log "LocalStack already running"; return; fi
  mkdir -p "$HOME_DIR/localstack" "$HOME_DIR/lambda" "$HOME_DIR/logs" "$HOME_DIR/pids"
  log "starting LocalStack $LOCALSTACK_VERSION on 127.0.0.1:$LOCALSTACK_PORT"
  (
    cd "$HOME_DIR/localstack"
    # GATEWAY_SERVER=hypercorn: the default server ignores the host part and binds everywhere.
    # ..._MAX_BACKOFF_ON_EMPTY_POLL_SEC: the SQS event sources long-poll (the template's
    # QueueBatchingWindowSeconds, 20 s locally), so an empty poll has already waited; without
    # this, the poller then slept up to 10 s more and an upload waited for it.
    env GATEWAY_LISTEN="127.0.0.1:$LOCALSTACK_PORT" GATEWAY_SERVER=hypercorn \
      OVERRIDE_IN_DOCKER=0 DNS_ADDRESS=0 SKIP_SSL_CERT_DOWNLOAD=1 \
      S3_SKIP_SIGNATURE_VALIDATION=0 DISABLE_EVENTS=1 \
      SERVICES=s3,sqs,lambda,stepfunctions,apigateway,cloudformation,iam,sts,logs,events,ssm,secretsmanager,ses \
      LAMBDA_RUNTIME_EXECUTOR=host-process \
      HOST_LAMBDA_PYTHON="$VENVS/lambda-python/bin/python" \
      HOST_LAMBDA_WORK_DIR="$HOME_DIR/lambda" \
      LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT=60 \
      LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC=0.1 \
      FILESYSTEM_ROOT="$HOME_DIR/localstack/fs" \
      nohup "$VENVS/localstack/bin/python" -m localstack.runtime.main \
      >"$HOME_DIR/logs/localstack.log" 2>&1 &
    echo $! >"$HOME_DIR/pids/localstack.pid"
  )
}

cmd_start() {
  start_mongo
  start_localstack
  wait_for 60 "SecantusDB" mongo_healthy
  wait_for 120 "LocalStack" localstack_healthy
  log "LocalStack and SecantusDB are up"
}

cmd_deploy() {
  local py313 bucket="pagewise-sam-artifacts"
  py313="$(dirname "$(python_for 3.13)")"
  # sam build needs a python3.13 on PATH for the python3.13 runtime.
  export PATH="$py313:$VENVS/sam/bin:$PATH"
  "$VENVS/lambda-python/bin/python" -c "
import boto3, botocore.exceptions
s3 = boto3.client('s3')
try:
    s3.head_bucket(Bucket='$bucket')
except botocore.exceptions.ClientError:
    s3.create_bucket(Bucket='$bucket')"
  log "sam build"
  sam build --config-env localstack >"$HOME_DIR/logs/sam-build.log" 2>&1 \
    || { tail -40 "$HOME_DIR/logs/sam-build.log"; die "sam build failed"; }
  if ! stack_is_healthy; then
    log "stack $STACK_NAME is in a failed state: recreating it"
    delete_stack
  fi
  log "sam deploy"
  local overrides=()
  mapfile -t overrides < <(parameter_overrides)
  if ! sam deploy --config-env localstack --parameter-overrides "${overrides[@]}" >"$HOME_DIR/logs/sam-deploy.log" 2>&1; then
    # LocalStack's CloudFormation cannot update every resource (an API Gateway stage, for one:
    # its update handler is not implemented) and its state after a rollback is unreliable.
    # Locally, the honest way out is a fresh stack; MongoDB keeps its data, S3 does not.
    log "sam deploy could not update the stack (see $HOME_DIR/logs/sam-deploy-failed-update.log): recreating it"
    cp "$HOME_DIR/logs/sam-deploy.log" "$HOME_DIR/logs/sam-deploy-failed-update.log"
    delete_stack
    sam deploy --config-env localstack --parameter-overrides "${overrides[@]}" >"$HOME_DIR/logs/sam-deploy.log" 2>&1 \
      || { tail -60 "$HOME_DIR/logs/sam-deploy.log"; die "sam deploy failed"; }
  fi
  log "deployed stack $STACK_NAME"
  # LocalStack's CloudFormation ignores ReservedConcurrentExecutions: put it through the API.
  "$VENVS/lambda-python/bin/python" "$ROOT/localstack/reserved_concurrency.py" "$STACK_NAME" \
    >"$HOME_DIR/logs/reserved-concurrency.log" 2>&1 \
    || { cat "$HOME_DIR/logs/reserved-concurrency.log"; die "reserved concurrency not applied"; }
  verify_notify_sender
}

parameter_overrides() { # samconfig.toml's local overrides, one a line, on this stack's ports
  "$VENVS/lambda-python/bin/python" - "$ROOT/samconfig.toml" "$LOCALSTACK_PORT" "$MONGO_PORT" <<'PY'
import sys, tomllib
config = tomllib.load(open(sys.argv[1], "rb"))
for item in config["localstack"]["deploy"]["parameters"]["parameter_overrides"]:
    print(item.replace("127.0.0.1:4566", f"127.0.0.1:{sys.argv[2]}")
              .replace("127.0.0.1:27017", f"127.0.0.1:{sys.argv[3]}"))
PY
}

verify_notify_sender() { # SES sends only from a verified identity; LocalStack verifies at once
  "$VENVS/lambda-python/bin/python" - "$STACK_NAME" <<'PY'
import sys, boto3, botocore.exceptions
stack = boto3.client("cloudformation").describe_stacks(StackName=sys.argv[1])["Stacks"][0]
sender = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}.get("NotifyFromEmail")
if sender:
    try:
        boto3.client("ses").verify_email_identity(EmailAddress=sender)
        print(f"\033[1m[stack]\033[0m SES sender {sender} verified", file=sys.stderr)
    except botocore.exceptions.ClientError as error:  # LocalStack started before ses was in SERVICES
        print(f"[stack] SES unavailable ({error}); no notification emails until LocalStack restarts", file=sys.stderr)
PY
}

stack_is_healthy() { # true if the stack does not exist yet or is in a stable, good state
  "$VENVS/lambda-python/bin/python" - "$STACK_NAME" <<'PY'
import sys
import boto3, botocore.exceptions
try:
    stack = boto3.client("cloudformation").describe_stacks(StackName=sys.argv[1])["Stacks"][0]
except botocore.exceptions.ClientError:
    sys.exit(0)
sys.exit(0 if stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE") else 1)
PY
}

delete_stack() { # empties the stack's buckets first: CloudFormation won't delete a full one
  "$VENVS/lambda-python/bin/python" - "$STACK_NAME" <<'PY'
import sys, time
import boto3, botocore.exceptions
name = sys.argv[1]
cloudformation, s3 = boto3.client("cloudformation"), boto3.resource("s3")
try:
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
except botocore.exceptions.ClientError:
    sys.exit(0)
for resource in resources:
    if resource["ResourceType"] == "AWS::S3::Bucket" and resource.get("PhysicalResourceId"):
        try:
            s3.Bucket(resource["PhysicalResourceId"]).objects.all().delete()
        except botocore.exceptions.ClientError:
            pass
cloudformation.delete_stack(StackName=name)
for _ in range(240):
    try:
        status = cloudformation.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    except botocore.exceptions.ClientError:
        break
    if status == "DELETE_COMPLETE":
        break
    time.sleep(0.5)
PY
}

cmd_outputs() {
  "$VENVS/lambda-python/bin/python" - "$STACK_NAME" "$LOCALSTACK_PORT" <<'EOF'
import json, sys
import boto3
stack = boto3.client("cloudformation").describe_stacks(StackName=sys.argv[1])["Stacks"][0]
print(json.dumps({o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}, indent=2))
EOF
}

stop_pid() { # stop_pid NAME
  local file="$HOME_DIR/pids/$1.pid" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $1 (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$file"
}

cmd_down() {
  stop_pid localstack
  stop_pid secantus
}

cmd_env() {
  echo "export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=$REGION"
  echo "export AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
}

cmd_mongo_start() { # for fault tests and drills: the data survives (--storage-path)
  start_mongo
  wait_for 60 "SecantusDB" mongo_healthy
}

cmd_redrive() {
  # SQS's own redrive (StartMessageMoveTask): from the DLQ back to the queue it came from.
  local dlq_url task
  dlq_url="$(cmd_outputs | "$VENVS/dev/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["UploadsDeadLetterQueueUrl"])')"
  task="$("$VENVS/dev/bin/python" - "$dlq_url" <<'PY'
import sys, boto3
sqs = boto3.client("sqs", region_name="us-east-1",  # AWS_ENDPOINT_URL: this stack's port
                   aws_access_key_id="test", aws_secret_access_key="test")
url = sys.argv[1]
arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
task = sqs.start_message_move_task(SourceArn=arn)
print(arn, task["TaskHandle"])
PY
)"
  log "redrive started (source, task): $task"
}

case "${1:-}" in
  setup) cmd_setup ;;
  start) cmd_start ;;
  deploy) cmd_deploy ;;
  up) cmd_setup; cmd_start; cmd_deploy ;;
  down) cmd_down ;;
  outputs) cmd_outputs ;;
  env) cmd_env ;;
  running) pid_alive "$HOME_DIR/pids/localstack.pid" && pid_alive "$HOME_DIR/pids/secantus.pid" ;;
  python) python_for "$2" ;;
  mongo-stop) stop_pid secantus ;;
  mongo-start) cmd_mongo_start ;;
  redrive) cmd_redrive ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
