# kumo.webstack — the two commands: `make demo` and `make test`. Both start from nothing
# (they create .venv and install into it; later runs reuse it).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON        ?= python3
VENV          := .venv
BIN           := $(CURDIR)/$(VENV)/bin
# The development tool chain (pinned); requirements.txt is what the collection needs at run time
DEV_REQS      := requirements-dev.txt
STAMP         := $(VENV)/.requirements-$(shell cat $(DEV_REQS) | sha256sum | cut -c1-12)
# the chat server's Python deps (its tests, the chat stack's check): defined here, before the
# rules that need them
CHAT_REQS     := apps/chat/requirements.txt apps/chat/requirements-test.txt apps/chat/requirements-bench.txt
CHAT_STAMP    := $(VENV)/.chat-requirements-$(shell cat $(CHAT_REQS) | sha256sum | cut -c1-12)
STATE         := .webstack
SCENARIO      ?=
WEBSTACK_NAME ?= demo
# Integration tests run in parallel, each worker with its own emulator (mostly waiting on
# ansible-playbook subprocesses, so a little more than the 2 cores helps). Three workers; four
# made every test much slower (a clean clone of c976b4a: the bot stack 1,040 s against about 500).
TEST_WORKERS  ?= 3
# The CPU each worker's playbook runs keep to (and each Molecule job's), round robin over the
# machine's CPUs. Mitogen's own policy pins all of them to CPU 1 on a 2-CPU machine: every
# playbook run of the stage shared one CPU while CPU 0, left to the emulators, Docker and the
# containers, stood about 30 % idle (a clean clone of 4abd62f: CPU 1 99 % busy, CPU 0 68 %,
# integration 3,049 s). Unpinned (59df0c3) was slower: each run's threads and processes then
# crossed CPUs. Kept to one CPU per run, they do not, and both CPUs work: the stage took 2,362 s
# (02452ed). Two CPU-bound processes here, one per CPU, each ran 1.0-1.3x as long as alone; two on
# one CPU, twice as long. Empty: Mitogen's own policy.
TEST_MITOGEN_CPUS ?= $(shell seq -s, 0 $$(( $$(nproc) - 1 )))

export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
# The integration tests and the demos run their playbooks with Mitogen's strategy, from .venv:
# modules run in Python processes kept for the whole run, so boto3 and the Docker SDK are imported
# once, not once per task. Measured on integration tests (test_ecs, test_security_groups,
# test_twin, bench-provision): 30-55 % less CPU, the same tasks and results. Molecule too, with
# its own destroy playbook (the docker driver's waits on an async job that never ends under
# Mitogen) and `ansible_connection: docker` for its hosts (.config/molecule/config.yml): the
# nginx_default scenario took 147 s with it, 203 s without. ansible.cfg does not name it
# (ansible-playbook outside make, or the collection installed elsewhere, uses Ansible's own
# linear strategy); WEBSTACK_MITOGEN=0 turns it off here too. The strategy is Mitogen's linear
# one with the collection directories listed once per run, not once per task
# (scripts/ansible_strategy/kumo_mitogen_linear.py): with the play's kind manifest read once
# (provision.yml, teardown.yml), a no-op rails provision took about 35 CPU-s against 43. It also
# reads each module_utils file's imports once per run, not once per module; and the AWS modules,
# which run one after another in Mitogen's long-lived interpreter, share one parsed copy of
# botocore's data files (scripts/pyhooks/kumo_botocore_shared_cache.py), not one per module run:
# with both, a no-op rails provision took about 24 CPU-s against 35, a first one 24 against 40.
WEBSTACK_MITOGEN ?= 1
MITOGEN = $(firstword $(wildcard $(CURDIR)/$(VENV)/lib/python3*/site-packages/ansible_mitogen/plugins/strategy))
WITH_MITOGEN = $(if $(filter 1,$(WEBSTACK_MITOGEN)),$(if $(MITOGEN),ANSIBLE_STRATEGY_PLUGINS=$(CURDIR)/scripts/ansible_strategy:$(MITOGEN) ANSIBLE_STRATEGY=kumo_mitogen_linear WEBSTACK_BOTOCORE_SHARED_CACHE=1,),)
export WEBSTACK_NAME
export WEBSTACK_EMULATOR_PORT ?= 5000
# molecule/ at the top level (the design card), not extensions/molecule
export MOLECULE_GLOB := molecule/*/molecule.yml

.PHONY: help venv demo diagram down docs test test-docs test-lint test-sanity test-unit test-integration test-molecule test-apps \
        emulator-up emulator-down docker image build clean readmes teardown bench bench-provision \
        maintenance-on maintenance-off test-sorry test-chat-stack test-faults demo-bot demo-chat \
        test-chat chat-deps bench-chat bench-chat-local bench-chat-twin test-bot

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): $(DEV_REQS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(DEV_REQS)
	@rm -f $(VENV)/.requirements-*
	@touch $@

# graphviz (Debian's package: `dot`) lays out the stack's diagram (make diagram, make demo, their tests).
# A .pth in .venv puts scripts/pyhooks on the path and loads its botocore hook at start-up; the
# hook does nothing unless WITH_MITOGEN turns it on (WEBSTACK_BOTOCORE_SHARED_CACHE=1)
venv: $(STAMP) ## Create .venv and install the pinned tool chain (and graphviz, for make diagram)
	@$(BIN)/python scripts/pyhooks/install_pth.py
	@command -v dot >/dev/null 2>&1 || scripts/apt-install.sh graphviz

# ---------------------------------------------------------------- the demo
# The demo stack has sorry servers for maintenance mode: a sorry page for its domain and its www
# name (CloudFront + S3 behind Origin Access Control, one sorry server): make maintenance-on / -off.
DEMO_DOMAIN   := $(WEBSTACK_NAME).kumo-webstack.example
DEMO_VARS     := {"sorry_pages_domains": [{"name": "$(DEMO_DOMAIN)"}, {"name": "www.$(DEMO_DOMAIN)"}], "webstack_sorry_count": 1}

demo: venv image emulator-up ## Provision the stack into the emulator, start its twin, deploy the app, print its URL
	$(WITH_MITOGEN) ansible-playbook -i inventories/local site.yml -e webstack_name=$(WEBSTACK_NAME) -e '$(DEMO_VARS)'
	@$(MAKE) --no-print-directory diagram >$(STATE)/$(WEBSTACK_NAME)/diagram.log 2>&1 \
	  || { tail -n 40 $(STATE)/$(WEBSTACK_NAME)/diagram.log; exit 1; }
	@echo
	@python -c "import json; o = json.load(open('$(STATE)/$(WEBSTACK_NAME)/outputs.json')); print('The app:  ' + o['app_url'] + '  (through the twin load balancer; its certificate is its own)')"
	@echo "Outputs:  $(STATE)/$(WEBSTACK_NAME)/outputs.json"
	@echo "Diagram:  $(STATE)/$(WEBSTACK_NAME)/diagram.png and .svg, read from the emulator's API (again: make diagram)"
	@echo "Emulator: http://127.0.0.1:$(WEBSTACK_EMULATOR_PORT), still running; look with boto3 or the aws CLI:"
	@echo "  AWS_ENDPOINT_URL=http://127.0.0.1:$(WEBSTACK_EMULATOR_PORT) AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
	AWS_DEFAULT_REGION=ap-northeast-1 $(BIN)/python -c \"import boto3; print(boto3.client('ec2').describe_vpcs()['Vpcs'])\""
	@echo "Stop it:  make down"

# The stack as the API has it (the emulator here; inventories/aws for AWS), drawn with AWS icons.
# make demo runs it at its end (about 6 s).
diagram: venv emulator-up ## Draw the demo stack from the emulator's API: .webstack/<name>/diagram.png and .svg
	$(WITH_MITOGEN) ansible-playbook -i inventories/local playbooks/diagram.yml -e webstack_name=$(WEBSTACK_NAME)

maintenance-on: venv emulator-up ## The demo's lb answers every request with the sorry page (503, Retry-After)
	ansible-playbook -i inventories/local playbooks/maintenance.yml -e webstack_name=$(WEBSTACK_NAME) \
	  -e '$(DEMO_VARS)' -e maintenance=on
	@echo "Try:  curl -k -H 'Host: $(DEMO_DOMAIN)' $$(python -c "import json; print(json.load(open('$(STATE)/$(WEBSTACK_NAME)/outputs.json'))['app_url'])")/posts"

maintenance-off: venv emulator-up ## The demo's lb serves the app again
	ansible-playbook -i inventories/local playbooks/maintenance.yml -e webstack_name=$(WEBSTACK_NAME) \
	  -e '$(DEMO_VARS)' -e maintenance=off

bench-provision: venv ## First and no-op provision of the whole rails stack on a fresh emulator: times, ratio, tasks
	python scripts/bench_provision.py

bench: venv ## Requests/s and latency through the demo's lb: listing page vs static asset, Puma and Unicorn (after make demo)
	@command -v wrk >/dev/null 2>&1 || scripts/apt-install.sh wrk
	python scripts/bench.py

teardown: venv emulator-up ## Remove the demo stack from the emulator (keeps data: see playbooks/teardown.yml)
	ansible-playbook -i inventories/local playbooks/teardown.yml -e webstack_name=$(WEBSTACK_NAME) -e '$(DEMO_VARS)'

# The bot stack (seed 002) beside the demo, in the same emulator: its two secrets are made up once
# (random, mode 0600, outside git) as a vault would hold them; the Messaging API is the twin's stand-in.
BOT_DEMO_NAME  ?= bot
BOT_DEMO_VAULT := $(STATE)/$(BOT_DEMO_NAME)-demo-secrets.yml

demo-bot: venv image emulator-up ## The bot stack: provision, twin, a signed webhook through its lb, print its webhook URL
	@mkdir -p $(STATE)
	@test -s $(BOT_DEMO_VAULT) || (umask 077; $(BIN)/python -c 'import secrets; \
	  print("bot_access_token: " + secrets.token_urlsafe(32)); print("bot_channel_secret: " + secrets.token_hex(16))' \
	  > $(BOT_DEMO_VAULT))
	$(WITH_MITOGEN) ansible-playbook -i inventories/local site.yml -e webstack_name=$(BOT_DEMO_NAME) -e webstack_kind=bot -e @$(BOT_DEMO_VAULT)
	@echo
	@python -c "import json; print('On AWS:   ' + json.load(open('$(STATE)/$(BOT_DEMO_NAME)/outputs.json'))['webhook_url'])"
	@echo "Locally:  the twin's lb, $$(grep -m1 'lb_url:' $(STATE)/$(BOT_DEMO_NAME)/inventory-$(BOT_DEMO_NAME).yml | awk '{print $$2}')/callback (secrets: $(BOT_DEMO_VAULT))"
	@echo "Stop it:  ansible-playbook -i inventories/local playbooks/twin.yml -e webstack_name=$(BOT_DEMO_NAME) -e twin_state=absent"

# The chat stack (seed 004) beside the demo, in the same emulator: its Redis AUTH token is made up
# once by the cache role (~/.config/kumo-webstack/<stack>/, outside git, never printed).
CHAT_DEMO_NAME ?= chat

demo-chat: venv image emulator-up $(CHAT_STAMP) ## The chat stack: provision, twin, chat servers, the page through its lb, a message across both servers
	$(WITH_MITOGEN) ansible-playbook -i inventories/local site.yml -e webstack_name=$(CHAT_DEMO_NAME) -e webstack_kind=chat
	@url=$$(grep -m1 'lb_url:' $(STATE)/$(CHAT_DEMO_NAME)/inventory-$(CHAT_DEMO_NAME).yml | awk '{print $$2}'); \
	  python scripts/chat_check.py pinned --url "$${url/https/wss}/ws" --insecure --server-name $(CHAT_DEMO_NAME).kumo-webstack.example; echo; \
	  echo "The chat: $$url/  (open it in two browsers; the twin's certificate is its own)"
	@echo "Stop it:  ansible-playbook -i inventories/local playbooks/twin.yml -e webstack_name=$(CHAT_DEMO_NAME) -e twin_state=absent"

readmes: venv ## Regenerate the role READMEs from meta/argument_specs.yml
	python scripts/role_readme.py

down: ## Stop everything `make demo` started (the twin's database volume is kept)
	@if [ -x $(BIN)/ansible-playbook ] && command -v docker >/dev/null; then \
	  ansible-playbook -i inventories/local playbooks/twin.yml -e webstack_name=$(WEBSTACK_NAME) -e twin_state=absent >/dev/null; fi
	@scripts/emulator.sh stop

emulator-up: venv
	@scripts/emulator.sh start

emulator-down:
	@scripts/emulator.sh stop

# ---------------------------------------------------------------- tests
# The short stages that leave a core idle run two at a time (-O: each one's output in one piece);
# integration and Molecule keep both cores busy on their own (the apps' tests beside Molecule made
# its long scenarios longer: the stage took about 650 s, against about 520 in turn; integration and
# Molecule side by side, with the chat stack's tests, ended 44:05 into the run and puma_default
# failed under the load; lint, sanity, unit and docs at nice 19 beside the integration stage took
# 504 s there and the stage ran about 2,670 s, longer than the two in turn would be by every
# estimate we have: a clean clone of 6566d73, not repeated).
# Any failure fails `make test`. Each stage prints its wall time (the budget: 45 minutes on a
# clean clone).
STAGE = s=$$(date +%s); $(MAKE) --no-print-directory
TOOK = && echo "make test: stage $(1) took $$(( $$(date +%s) - s )) s"
test: venv ## Run every test
	@$(STAGE) -O -j2 test-lint test-sanity test-unit test-docs $(call TOOK,lint-sanity-unit)
	@$(STAGE) test-integration $(call TOOK,integration)
	@$(STAGE) test-molecule $(call TOOK,molecule)
	@$(STAGE) -O -j3 test-apps test-chat test-bot $(call TOOK,apps)

test-lint: venv ## yamllint, the changelog (lint, CHANGELOG.md up to date), ansible-lint (production profile), ruff
	yamllint --strict .
	scripts/changelog-check.sh
	python scripts/role_readme.py --check
	ansible-lint --offline --profile production
	ruff check .
	ruff format --check .

docs: venv ## Build the docs site (modules, filters, inventory, lookup, roles) into build/docs/html, offline
	scripts/docs.sh

test-docs: venv ## Lint the plugin and role docs (antsibull-docs lint-collection-docs --plugin-docs)
	scripts/docs.sh --check

test-sanity: venv ## ansible-test sanity on our plugins
	scripts/sanity.sh

test-unit: venv ## Unit tests (no emulator, no containers), on both cores
	pytest -n 2 tests/unit

# The twin tests need the base image: with WEBSTACK_BASE_IMAGE_REF set they fail, never skip,
# when it is missing (a bare `pytest tests/integration` skips them instead).
# The chat stack's test runs scripts/chat_check.py on the controller (websockets: CHAT_STAMP).
test-integration: venv image $(CHAT_STAMP) ## Playbooks and modules against the embedded emulator (parallel workers)
	export WEBSTACK_BASE_IMAGE_REF=$$(scripts/build-base-image.sh); \
	  WEBSTACK_TEST_MITOGEN_CPUS=$(TEST_MITOGEN_CPUS) $(WITH_MITOGEN) \
	  pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=25 tests/integration

# Subsets of make test, for working on one kind. The sorry kind's: the sorry pages role alone, a
# sorry stack end to end, and the rails e2e test (blog goes into maintenance and out of it under load).
test-sorry: venv image ## The sorry kind's tests alone (seed 003): the pages role, a sorry stack, maintenance in the rails e2e test
	export WEBSTACK_BASE_IMAGE_REF=$$(scripts/build-base-image.sh); \
	  $(WITH_MITOGEN) pytest -n 2 --dist loadgroup tests/integration/test_sorry_pages.py tests/integration/test_sorry_twin.py \
	  tests/integration/test_rails_twin.py

# Every kind against the emulator's fault mode (10 % throttling, 2 % 5xx, a 5 s lag), side by side
# in one emulator: make test runs the rails kind alone (tests/integration/test_faults.py).
test-faults: venv image ## Every kind's reduced stack provisioned twice and torn down against a faulty emulator (about 15 min)
	export WEBSTACK_BASE_IMAGE_REF=$$(scripts/build-base-image.sh); \
	  WEBSTACK_TEST_FAULT_KINDS=rails,sorry,chat,bot $(WITH_MITOGEN) pytest -rA tests/integration/test_faults.py

# The chat kind's: the check's own tests (apps/chat/tests/test_chat_check.py: it against two local
# servers behind a test lb), the chat stack end to end in the twin (provision, twin, hosts, deploy,
# the pinned and stream checks through a rolling restart, the bake, teardown), then on premises
# (Molecule chat_onprem).
test-chat-stack: venv image $(CHAT_STAMP) ## The chat kind's tests alone (seed 004): the check, the stack in the twin, then on premises
	export WEBSTACK_BASE_IMAGE_REF=$$(scripts/build-base-image.sh); \
	  pytest apps/chat/tests/test_chat_check.py \
	  && $(WITH_MITOGEN) pytest tests/integration/test_chat_stack.py && $(WITH_MITOGEN) molecule test -s chat_onprem

docker: ## Make sure a Docker engine is running (installs Debian's docker.io as root)
	@scripts/ensure-docker.sh

image: docker ## Build the test-host base image (debootstrap; only when its recipe changed)
	@scripts/build-base-image.sh >/dev/null

# chat_onprem's verify runs scripts/chat_check.py on the controller (websockets: CHAT_STAMP)
test-molecule: venv image $(CHAT_STAMP) ## Molecule scenarios, MOLECULE_JOBS (2) at a time (or one: SCENARIO=bastion)
	WEBSTACK_BASE_IMAGE_REF=$$(scripts/build-base-image.sh) WEBSTACK_MOLECULE_CPUS=$(TEST_MITOGEN_CPUS) $(WITH_MITOGEN) \
	  $(if $(SCENARIO),molecule test -s $(SCENARIO),scripts/molecule-all.sh)

test-apps: image ## The sample app's own tests (rails test, production boot) in kumo-webstack/ruby
	apps/rails_sample/test.sh

# ---------------------------------------------------------------- the chat server (apps/chat)

$(CHAT_STAMP): $(STAMP) $(CHAT_REQS)
	$(BIN)/python -m pip install --quiet $(addprefix -r ,$(CHAT_REQS))
	@rm -f $(VENV)/.chat-requirements-*
	@touch $@

chat-deps: $(CHAT_STAMP) ## The chat server's Python deps in .venv; redis-server, chromium, chromium-driver
	@command -v redis-server >/dev/null 2>&1 || scripts/apt-install.sh redis-server
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || scripts/apt-install.sh chromium chromium-driver

# Not under tests/ (pytest.ini's testpaths), so test-unit never collects them. The browser test
# fails here, never skips, when Chromium is missing.
test-chat: venv chat-deps ## The chat server's tests: protocol, limits, two servers, a killed server, the page in Chromium, scripts/chat_check.py
	CHAT_TEST_REQUIRE_BROWSER=1 pytest --durations=5 apps/chat/tests

bench-chat: ## bench-chat-local, then bench-chat-twin: the same 200 clients on loopback, then through a twin's lb over TLS
	@$(MAKE) --no-print-directory bench-chat-local
	@$(MAKE) --no-print-directory bench-chat-twin

bench-chat-local: venv chat-deps ## Two chat servers + Redis here: 200 clients paced and flat out (latency, lost, deliveries/s, profile)
	python scripts/bench_chat.py

# A chat stack of its own in the emulator and its twin (about 5 minutes to come up), its servers'
# per-connection rate limits lifted (the flat-out phase is a deliberate flood); the bench goes
# through its lb (HAProxy, TLS, the stack's own certificate) and the stack is removed afterwards,
# whatever the bench's outcome (whose exit code make keeps).
BENCH_CHAT_NAME ?= chatbench
BENCH_CHAT_VARS := {"chat_app_extra_env": {"CHAT_RATE_PER_SEC": "100000", "CHAT_RATE_BURST": "100000"}}

bench-chat-twin: venv image emulator-up $(CHAT_STAMP) ## A chat stack + twin of its own: the same bench through its lb over TLS, then remove it
	@s=$$(date +%s); rc=0; \
	  $(WITH_MITOGEN) ansible-playbook -i inventories/local playbooks/chat.yml -e webstack_name=$(BENCH_CHAT_NAME) \
	    -e '$(BENCH_CHAT_VARS)' \
	  && url=$$(grep -m1 'lb_url:' $(STATE)/$(BENCH_CHAT_NAME)/inventory-$(BENCH_CHAT_NAME).yml | awk '{print $$2}') \
	  && echo "bench-chat-twin: stack up after $$(( $$(date +%s) - s )) s" \
	  && python scripts/bench_chat.py --url "$${url/https/wss}/ws" --server-name $(BENCH_CHAT_NAME).kumo-webstack.example \
	    --insecure --stack $(BENCH_CHAT_NAME) \
	  || rc=$$?; \
	  echo "bench-chat-twin: removing the stack $(BENCH_CHAT_NAME)"; \
	  { $(WITH_MITOGEN) ansible-playbook -i inventories/local playbooks/twin.yml -e webstack_name=$(BENCH_CHAT_NAME) \
	      -e twin_state=absent \
	    && $(WITH_MITOGEN) ansible-playbook -i inventories/local playbooks/teardown.yml -e webstack_name=$(BENCH_CHAT_NAME) \
	      -e webstack_kind=chat -e webstack_teardown_skip_final_snapshot=true; } >$(STATE)/bench-chat-twin-teardown.log 2>&1 \
	  || { t=$$?; echo "bench-chat-twin: the teardown failed, see $(STATE)/bench-chat-twin-teardown.log" >&2; \
	       [ $$rc -ne 0 ] || rc=$$t; }; \
	  echo "bench-chat-twin: took $$(( $$(date +%s) - s )) s in all"; \
	  exit $$rc

# ---------------------------------------------------------------- the bot (apps/bot)
BOT_REQS  := apps/bot/requirements.txt apps/bot/requirements-test.txt
BOT_STAMP := $(VENV)/.bot-requirements-$(shell cat $(BOT_REQS) | sha256sum | cut -c1-12)

$(BOT_STAMP): $(STAMP) $(BOT_REQS)
	$(BIN)/python -m pip install --quiet $(addprefix -r ,$(BOT_REQS))
	@rm -f $(VENV)/.bot-requirements-*
	@touch $@

# Not under tests/ (pytest.ini's testpaths), so test-unit never collects them. In-process and
# on 127.0.0.1 only: a stand-in Messaging API, SSM from moto, one `python -m kumo_bot`.
test-bot: venv $(BOT_STAMP) ## The bot's tests: signatures, replies to a stand-in API, secrets from SSM (moto)
	pytest --durations=5 apps/bot/tests

build: venv ## Build the collection tarball into build/
	ansible-galaxy collection build --force --output-path build .

clean: down ## Remove build output and state (keeps .venv)
	rm -rf build $(STATE) .cache tests/output
