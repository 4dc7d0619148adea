SHELL := /bin/bash
.DEFAULT_GOAL := help

# Extra pytest arguments: make test ARGS='-k broker -x'
ARGS ?=

.PHONY: help setup services test demo lint clean

help:
	@echo "make setup     Debian packages, .venv with the project, development keys"
	@echo "make services  make sure RabbitMQ and PostgreSQL answer on 127.0.0.1"
	@echo "make test      setup + services + ruff + mypy + lint-imports + pytest (ARGS='...')"
	@echo "make demo      setup + services, then .venv/bin/loket-hub demo"
	@echo "make lint      ruff, mypy and the import rings (lint-imports)"
	@echo "make clean     remove var/ and out/ (keeps .venv); stops a broker started from var/"

setup:
	bash scripts/setup.sh

services:
	bash scripts/ensure-services.sh

test:
	bash scripts/test.sh $(ARGS)

demo: setup services
	.venv/bin/loket-hub demo

lint: setup
	.venv/bin/ruff check .
	.venv/bin/mypy hub adapters simulators loket_hub benchmarks
	.venv/bin/lint-imports --no-logo

clean:
	bash scripts/ensure-services.sh stop
	rm -rf var out
