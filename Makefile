# Entry points for users and CI. `make` (or `make help`) lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Node 22 first on PATH (the machines ship Node 20): see scripts/node22.sh.
NODE_BIN := $(shell scripts/node22.sh)
export PATH := $(NODE_BIN):$(PATH)

# Images are <PROJECT>/<function>:latest and :<git sha>.
PROJECT ?= lambda-pipelines
export PROJECT
# Base images: public defaults. Where a registry cannot be reached, scripts/base-images.sh builds
# equivalents once per machine with the offline kit (docker/base/) and the build uses those.
NODE_RUNTIME_IMAGE ?= node:22-bookworm-slim
NODE_BUILD_IMAGE ?= node:22-bookworm
LOCALSTACK_IMAGE ?= localstack/localstack:4.14.0
export NODE_RUNTIME_IMAGE NODE_BUILD_IMAGE LOCALSTACK_IMAGE
# x86_64 or arm64: the single architecture the images are built for.
ARCH ?= x86_64
export ARCH
FUNCTION ?=
# docker compose v2 when present, else docker-compose 1.29.
COMPOSE := $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
export COMPOSE
# One fixed compose project name, whatever the checkout's folder is called.
COMPOSE_PROJECT_NAME ?= lambda-pipelines
export COMPOSE_PROJECT_NAME
JEST_REPORTS := .reports

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# npm 10, as in the images: the npm 11 some machines ship refuses this lockfile in `npm ci`
# ("Missing: @swc/core-darwin-arm64@ from lock file": optional packages of other platforms).
node_modules: package.json package-lock.json
	npx -y npm@10 ci --no-audit --no-fund
	@touch node_modules

.PHONY: deps
deps: node_modules ## Install the npm dependencies (npm ci)

.PHONY: typecheck
typecheck: node_modules ## Type-check all TypeScript (tsc --noEmit, strict) and the import directions (dependency-cruiser)
	npx tsc --noEmit && npx tsc --noEmit -p functions/api/dashboard
	npx depcruise --config .dependency-cruiser.cjs functions infra local-lambda toolkit scripts integration

.PHONY: test-unit
test-unit: typecheck ## Unit tests of the pure cores: no Docker, no network
	@mkdir -p $(JEST_REPORTS)
	npx jest --config jest.config.js --json --outputFile=$(JEST_REPORTS)/unit.json

.PHONY: test-integration
test-integration: build ## Build the images, then the integration suites against real LocalStack and function containers (Docker)
	@mkdir -p $(JEST_REPORTS)
	images=$$(scripts/base-images.sh) && eval "$$images" && export LOCALSTACK_IMAGE && \
	TESTCONTAINERS_RYUK_DISABLED=true npx jest --config jest.integration.config.js --runInBand --json --outputFile=$(JEST_REPORTS)/integration.json

.PHONY: test
test: test-unit test-integration ## Unit tests, then the integration suites

.PHONY: build
build: node_modules ## Build one image per folder of functions/ (+ the local Lambda service): [FUNCTION=name] [ARCH=x86_64|arm64]
	@scripts/preflight.sh engine
	@scripts/build-images.sh

.PHONY: push
push: node_modules ## Push every image (or FUNCTION=) tagged with the git sha: AWS_ACCOUNT_ID= AWS_REGION= (ECR) or REGISTRY=host[:port] [ARCH=] [ALLOW_DIRTY=1]
	@# Refuse a dirty tree before spending a build on it (scripts/push/main.ts checks again).
	@[ -z "$$(git status --porcelain 2>/dev/null)" ] || [ "$(ALLOW_DIRTY)" = 1 ] || { echo "push: the working tree has uncommitted changes, so the git sha would not describe the images: commit them, or set ALLOW_DIRTY=1" >&2; exit 1; }
	@$(MAKE) --no-print-directory build
	npx tsx scripts/push/main.ts

.PHONY: synth
synth: node_modules ## The stack (the CDK app in infra/) as CloudFormation: cdk.out/LambdaPipelines.template.json, checked by cdk-nag and cfn-lint; no AWS account needed
	@npx cdk synth --quiet
	@bin=$$(scripts/python-tools.sh cfn-lint) && $$bin/cfn-lint && echo "synth: cdk.out/$${STACK_NAME:-LambdaPipelines}.template.json: cdk-nag AwsSolutions and cfn-lint found nothing"

.PHONY: deploy
deploy: node_modules ## Deploy the stack to AWS Lambda with the image digests make push recorded: AWS_REGION= (and credentials)
	@npx tsx infra/deploy.ts

.PHONY: bench
bench: node_modules ## Benchmarks beside peers and limits (thumbnails, CSV import, latency, images), into docs/benchmarks.md (~50 min with the 1,000,000-row import)
	@scripts/preflight.sh bench-tools
	@$(MAKE) --no-print-directory up
	npx tsx scripts/bench/main.ts

.PHONY: bench-images
bench-images: build ## Image size vs floor and cold start vs bare node, into docs/benchmarks.md
	npx tsx scripts/bench-images.ts

.PHONY: up
up: ## Build the images, synthesize the CDK app, start LocalStack + the local Lambda service, deploy the template locally
	@scripts/preflight.sh engine
	@scripts/preflight.sh ports
	@$(MAKE) --no-print-directory build
	@scripts/up.sh

.PHONY: dev
dev: ## The stack as make up makes it, each function rebuilt on save and reloaded (one line per reload); Ctrl-C stops watching
	@scripts/preflight.sh engine
	@scripts/preflight.sh ports
	@$(MAKE) --no-print-directory build
	@DEV_BUNDLES=$(CURDIR)/.cache/dev npx tsx scripts/dev.ts

.PHONY: invoke
invoke: node_modules ## Invoke one function of the running stack: FUNCTION=name [EVENT=file.json] (default: its first sample event); prints response, duration, log
	@npx tsx scripts/invoke.ts

.PHONY: outputs
outputs: node_modules ## What the running stack is called: its outputs (bucket, table, function names), functions and what to try
	@npx tsx scripts/stack-summary.ts

.PHONY: output
output: node_modules ## One output of the running stack, for the shell: make -s output NAME=UploadsBucketName
	@npx tsx scripts/stack-output.ts "$(NAME)"

# awslocal when installed, else the AWS CLI pointed at LocalStack.
AWSLOCAL := $(shell command -v awslocal >/dev/null 2>&1 && echo awslocal || echo "aws --endpoint-url http://127.0.0.1:4566")

.PHONY: demo
demo: node_modules ## Upload the sample photo and CSVs (one per data set), then print thumbnails, log items, rows and the notification
	@uploads=$$(npx tsx scripts/stack-output.ts UploadsBucketName) || exit 1; \
	id=$$(date +%s); export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1; \
	for pair in samples/photo.jpg:images/demo-$$id.jpg samples/people.csv:imports/people/demo-$$id.csv samples/debian-releases.csv:imports/debian-releases/demo-$$id.csv; do \
	  echo "==> $(AWSLOCAL) s3 cp $${pair%%:*} s3://$$uploads/$${pair#*:}"; \
	  $(AWSLOCAL) s3 cp --only-show-errors "$${pair%%:*}" "s3://$$uploads/$${pair#*:}" 2>/dev/null || { echo "demo: the upload failed: is the stack up (make up)?" >&2; exit 1; }; \
	done; \
	DEMO_ID=$$id npx tsx scripts/demo.ts

.PHONY: down
down: ## Stop and remove the local stack: the function environments (the service removes them as it stops), the service, LocalStack
	@scripts/preflight.sh engine
	@$(COMPOSE) stop --timeout 30 local-lambda 2>/dev/null || true
	@# What a killed service could not remove: its function containers, found by their labels.
	@ids=$$(docker ps -aq --filter label=lambda-pipelines.stack=$(COMPOSE_PROJECT_NAME) --filter label=lambda-pipelines.function); [ -z "$$ids" ] || docker rm -f $$ids >/dev/null
	$(COMPOSE) down --remove-orphans --timeout 20
	@# Their networks (the stack's containers are gone now); their /tmp volumes the proxy cleans at its next start.
	@nets=$$(docker network ls -q --filter label=lambda-pipelines.stack=$(COMPOSE_PROJECT_NAME)); [ -z "$$nets" ] || docker network rm $$nets >/dev/null

.PHONY: logs
logs: ## Follow the logs: FUNCTION=name (its log group in CloudWatch Logs, SINCE=1h from further back), or the local Lambda service and LocalStack
	@if [ -n "$(FUNCTION)" ]; then npx tsx scripts/logs.ts "$(FUNCTION)"; else $(COMPOSE) logs -f --tail=100; fi

.PHONY: cost
cost: node_modules ## What the run would cost on Lambda (x86_64, arm64, free tier), from the REPORT lines in CloudWatch Logs: [SINCE=30m] [EVENTS=n]
	@npx tsx scripts/cost.ts

.PHONY: ps
ps: ## Show the stack's containers and their health, the function containers too
	@$(COMPOSE) ps
	@docker ps --filter label=lambda-pipelines.stack=$(COMPOSE_PROJECT_NAME) --filter label=lambda-pipelines.function --format 'table {{.Names}}\t{{.Status}}\t{{.Image}}'

.PHONY: clean
clean: ## Remove build output, caches and test reports
	rm -rf dist .reports .cache node_modules/.cache cdk.out
