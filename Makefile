# zhibu: `make run` sets up and serves the demo; `make test` sets up and runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup lint pytest pytest-postgres docs clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "zhibu 需要 Python 3.11 或更高版本")'
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || { echo "缺少 Python 的 venv 模块：Debian/Ubuntu 请先运行 apt-get install python3-venv"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/zhibu run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/mypy zhibu

pytest: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Runs the suite again against PostgreSQL when ZHIBU_TEST_POSTGRES_URL is set (CI sets it).
pytest-postgres: $(STAMP)
	@if [ -n "$$ZHIBU_TEST_POSTGRES_URL" ]; then \
		echo "== 在 PostgreSQL 上运行测试 =="; \
		ZHIBU_DATABASE_URL="$$ZHIBU_TEST_POSTGRES_URL" $(BIN)/python -m pytest $(PYTEST_ARGS); \
	else echo "（未设置 ZHIBU_TEST_POSTGRES_URL，跳过 PostgreSQL 测试）"; fi

test: lint pytest pytest-postgres

clean:
	rm -rf $(VENV) instance/test .pytest_cache .mypy_cache .ruff_cache
