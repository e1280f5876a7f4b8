# srekit — every target sets itself up: `make report` and `make test` work as the first command.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install report test lab bench lint samples clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $(STAMP)

install: $(STAMP)

FLEET_SAMPLES := data/fleet-samples

report: $(STAMP) $(FLEET_SAMPLES)/fleet.yaml
	$(BIN)/srekit report --config data/samples/service.yaml --out reports/
	$(BIN)/srekit fleet report --config $(FLEET_SAMPLES)/fleet.yaml --out reports/

# a small sample fleet (3 services, 35 days: two calendar months), generated once, not committed
$(FLEET_SAMPLES)/fleet.yaml: $(STAMP)
	$(BIN)/srekit samples --fleet 3 --days 35 --out $(FLEET_SAMPLES)

test: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q
	$(BIN)/python -m pytest -n 2 --dist loadfile -q --nbval-lax notebooks

lab: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[lab,dev]"
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check srekit tests benchmarks
	$(BIN)/ruff format --check srekit tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy srekit

samples: $(STAMP)
	$(BIN)/srekit samples --out data/samples

clean:
	rm -rf $(VENV) reports build *.egg-info
