# Shared by the Makefiles of the layers and of the functions with a requirements.txt
# (template.yaml, BuildMethod: makefile; `sam build` runs `make build-<LogicalId>` in a copy of
# the source with ARTIFACTS_DIR set). Include it with
#   include $(dir $(lastword $(MAKEFILE_LIST)))<path to>/layers/build.mk
# PIP_FOR_AWS resolves for AWS's platform (manylinux x86_64, CPython 3.13) whatever the build
# host is; add --target.
PYTHON ?= python3.13
PIP_FOR_AWS := $(PYTHON) -m pip install --quiet --disable-pip-version-check \
  --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
  --implementation cp --python-version 3.13 --only-binary=:all:

# A layer's requirements, laid out as AWS mounts a layer on /opt (python/).
define build_layer_requirements
	$(PIP_FOR_AWS) --target "$(ARTIFACTS_DIR)/python" -r requirements.txt
endef

# A function: its requirements and its code at the root of the artifact, as SAM's default
# Python builder lays it out (without __pycache__ of the source).
define build_function
	$(PIP_FOR_AWS) --target "$(ARTIFACTS_DIR)" -r requirements.txt
	for item in $(filter-out Makefile __pycache__,$(wildcard *)); do \
	  cp -R "$$item" "$(ARTIFACTS_DIR)/"; \
	  find "$(ARTIFACTS_DIR)/$$item" -name __pycache__ -prune -exec rm -rf {} +; \
	done
endef
