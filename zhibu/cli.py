"""The `zhibu` command for operators: run, demo data, imports and exports, accounts, backup and restore."""

from __future__ import annotations

import argparse
import getpass
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn


class CommandError(Exception):
    """A clear message for the operator; the command exits with status 2."""


class ChineseHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix if prefix is not None else "用法：")


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhibu.settings")
    import django

    django.setup()


def _ready() -> None:
    """Set up Django and bring the database schema up to date (after an upgrade, before any data work)."""
    _setup_django()
    _migrate()


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _database_is_new() -> bool:
    from zhibu.orgs.models import Organization

    return not Organization.objects.exists()


def _system_actor() -> Any:
    return None


def _admin_scope() -> Any:
    from zhibu.core.scoping import system_scope

    return system_scope()


def cmd_run(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    print("正在检查配置和制度包……", flush=True)
    # System checks include the policy packs: a broken pack stops the start, not the first page view.
    from django.core.management.base import SystemCheckError

    try:
        call_command("check", fail_level="ERROR")
    except SystemCheckError as exc:
        raise CommandError(f"配置有误，未启动：{exc}") from exc
    print("正在准备数据库……", flush=True)
    _migrate()
    call_command("collectstatic", interactive=False, verbosity=0)
    if _database_is_new() and not args.no_demo:
        print("新数据库：正在生成演示数据（1所学校）……", flush=True)
        from django.utils import timezone

        from zhibu.demo import build_demo

        result = build_demo(schools=1, seed=1, reference_date=timezone.localdate())
        _first_check()
        _print_logins(result.logins)
    elif not args.no_demo:
        from zhibu.demo import demo_logins

        _print_logins(demo_logins())
    db = settings.DATABASES["default"]
    print(f"数据库：{db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}", flush=True)
    print(f"实例目录（密钥、数据库、附件）：{settings.INSTANCE_DIR}", flush=True)
    print(f"访问 http://{args.host}:{args.port}  （按 Ctrl+C 停止）", flush=True)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "zhibu.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
        # The control socket lives at one path per user; two instances on a machine would share it.
        "--no-control-socket",
    ]
    return _serve_with_worker(command)


class _Stop(Exception):
    """SIGTERM arrived: stop the server and the worker."""


def _serve_with_worker(command: list[str], worker_argv: list[str] | None = None) -> int:
    """Run the web server and one task worker beside it; when either the server exits or we are told to
    stop (Ctrl+C, SIGTERM), stop both and wait for them, so no process is left behind."""
    import signal

    def on_term(signum: int, frame: Any) -> None:
        raise _Stop

    previous = signal.signal(signal.SIGTERM, on_term)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        worker_argv = worker_argv or [sys.executable, "-m", "zhibu.cli", "worker"]
        procs.append(subprocess.Popen(worker_argv))  # noqa: S603  (fixed argv, our own interpreter)
        print("后台任务进程已启动（提醒、每日检查）", flush=True)
        server = subprocess.Popen(command)  # noqa: S603  (fixed argv, our own interpreter)
        procs.append(server)
        return server.wait()
    except (KeyboardInterrupt, _Stop):
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop_all(procs)
        signal.signal(signal.SIGTERM, previous)


def _stop_all(procs: list[subprocess.Popen[bytes]], timeout: float = 15) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        except KeyboardInterrupt:
            p.kill()
            p.wait()


def cmd_worker(args: argparse.Namespace) -> int:
    """The database task worker, with the daily scheduler in a thread beside it."""
    if args.interval <= 0:
        raise CommandError("--interval 应为正数（秒）")
    _ready()
    import threading

    from django.core.management import call_command
    from django.db import connection

    from zhibu.compliance.tasks import schedule_due

    stop = threading.Event()

    def scheduler() -> None:
        while not stop.is_set():
            try:
                for name in schedule_due():
                    print(f"已安排今日任务：{name}", flush=True)
            except Exception as exc:  # the scheduler must outlive a passing database error
                print(f"安排每日任务时出错：{type(exc).__name__}：{exc}", file=sys.stderr, flush=True)
            finally:
                connection.close()
            stop.wait(60)

    if not args.batch and not args.no_schedule:
        threading.Thread(target=scheduler, name="zhibu-scheduler", daemon=True).start()
    try:
        call_command(
            "db_worker",
            batch=args.batch,
            interval=args.interval,
            startup_delay=False,
            verbosity=1 if args.verbose else 0,
        )
    finally:
        stop.set()
    return 0


def cmd_remind(args: argparse.Namespace) -> int:
    _ready()
    from zhibu.compliance.notifications import reminders_send

    result = reminders_send()
    print(
        f"即将到期或已逾期的检查结果 {result.findings} 条；新提醒 {result.created} 条；"
        f"待发邮件 {result.emails} 封（由后台任务进程发送）"
    )
    return 0


def cmd_nightly(args: argparse.Namespace) -> int:
    _ready()
    from zhibu.compliance.models import EvaluationRun
    from zhibu.compliance.tasks import nightly_evaluation

    run_ids = nightly_evaluation.call()
    for run in EvaluationRun.objects.filter(pk__in=run_ids).select_related("root"):
        print(f"{run.root.name}（{run.root.code}）{run.year} 年检查完成：结果 {sum(run.counts.values())} 条")
    if not run_ids:
        print("没有党组织，未检查")
    return 0


def _first_check() -> None:
    """A new demo shows findings at once instead of after the first night."""
    from django.utils import timezone

    from zhibu.compliance.models import Trigger
    from zhibu.compliance.services import evaluate_roots

    evaluate_roots(year=timezone.localdate().year, trigger=Trigger.COMMAND)


def _print_logins(logins: list[tuple[str, str, str]]) -> None:
    from zhibu.demo import DEMO_PASSWORD

    if not logins:
        return
    print(f"演示账户（密码均为 {DEMO_PASSWORD}）：")
    for username, who, where in logins:
        print(f"  {username:<18} {who}（{where}）")


def cmd_demo(args: argparse.Namespace) -> int:
    if args.schools < 1 or args.schools > 2000:
        raise CommandError("--schools 应为 1 至 2000 之间的整数")
    _setup_django()
    _migrate()
    if not _database_is_new() and not args.force:
        raise CommandError("数据库中已有党组织数据；演示数据只能生成到空数据库中（可用 --force 追加）")
    from django.utils import timezone

    from zhibu.demo import build_demo

    as_of = args.as_of or timezone.localdate()
    result = build_demo(schools=args.schools, seed=args.seed, progress=print, reference_date=as_of)
    print(f"已生成：{result.schools} 所学校，{result.orgs} 个党组织，{result.people} 名人员")
    print(f"用时 {result.seconds:.1f} 秒")
    _print_logins(result.logins)
    return 0


def cmd_import_people(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"找不到文件：{path}")
    _ready()
    from zhibu.core.errors import ServiceError
    from zhibu.orgs.models import Organization
    from zhibu.people.importing import import_people

    org = Organization.objects.filter(code=args.org).first()
    if org is None:
        raise CommandError(f"找不到组织代码为 {args.org} 的党组织")
    with path.open("rb") as fh:
        try:
            report = import_people(
                fh,
                filename=path.name,
                org=org,
                actor=_system_actor(),
                scope=_admin_scope(),
                partial=args.partial,
            )
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(report.summary)
    return 0 if report.ok else 1


def cmd_export_people(args: argparse.Namespace) -> int:
    _ready()
    from zhibu.orgs.models import Organization
    from zhibu.people.exporting import export_people_xlsx
    from zhibu.people.selectors import PersonFilters, person_list_visible_to

    org = Organization.objects.filter(code=args.org).first()
    if org is None:
        raise CommandError(f"找不到组织代码为 {args.org} 的党组织")
    out = Path(args.output)
    if out.parent and not out.parent.exists():
        raise CommandError(f"目录不存在：{out.parent}")
    people = person_list_visible_to(_admin_scope(), PersonFilters(org=org))
    from zhibu.core.audit import audit_record

    with out.open("wb") as fh:
        count = export_people_xlsx(people, fh, title=org.name)
    audit_record(
        actor=None, action="export", obj=org, org_path=org.path, note=f"命令行导出 {count} 人到 {out.name}"
    )
    print(f"已导出 {count} 人到 {out}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    _ready()
    import json

    from zhibu.compliance.kinds import STATES
    from zhibu.compliance.models import Finding, Trigger
    from zhibu.compliance.selectors import finding_json
    from zhibu.compliance.services import evaluation_run
    from zhibu.orgs.models import Organization

    if not 1900 <= args.year <= 2200:
        raise CommandError("--year 应为 1900 至 2200 之间的年份")
    org = Organization.objects.filter(code=args.org).first()
    if org is None:
        raise CommandError(f"找不到组织代码为 {args.org} 的党组织")
    run = evaluation_run(
        actor=_system_actor(), scope=_admin_scope(), org=org, year=args.year, trigger=Trigger.COMMAND
    )
    findings = Finding.objects.filter(run=run).select_related("org")
    if not args.all:
        findings = findings.exclude(state="ok")
    rows = list(findings.order_by("org_path", "rule_id", "subject_label", "id"))
    if args.json:
        print(json.dumps([finding_json(f) for f in rows], ensure_ascii=False, indent=2))
        return 0
    print(f"{org.name}（{org.code}）{run.year} 年检查，检查日期 {run.as_of}，规则 {run.rule_count} 条")
    for state, label in STATES.items():
        group = [f for f in rows if f.state == state]
        if not group:
            continue
        print(f"\n【{label}】{len(group)} 条")
        for f in group:
            due = f"，到期 {f.due}{'（估算）' if f.estimated else ''}" if f.due else ""
            print(f"  {f.rule_id} {f.rule_title} · {f.subject_label}（{f.org.code}）{due}")
            print(f"    {f.message}")
    summary = "，".join(f"{label} {run.counts.get(state, 0)}" for state, label in STATES.items())
    print(f"\n合计：{summary}")
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    _setup_django()
    _migrate()
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from zhibu.accounts.models import User

    username = args.username or (input("用户名：").strip() if sys.stdin.isatty() else "")
    if not username:
        raise CommandError("请用 --username 指定用户名")
    if User.objects.filter(username=username).exists():
        raise CommandError(f"用户 {username} 已存在")
    password = os.environ.get("ZHIBU_ADMIN_PASSWORD", "")
    if not password:
        if not sys.stdin.isatty():
            raise CommandError("非交互方式运行时，请用环境变量 ZHIBU_ADMIN_PASSWORD 提供密码")
        password = getpass.getpass("密码：")
        if password != getpass.getpass("再次输入密码："):
            raise CommandError("两次输入的密码不一致")
    try:
        validate_password(password)
    except ValidationError as exc:
        raise CommandError("密码不符合要求：" + "；".join(exc.messages)) from exc
    User.objects.create_superuser(username=username, password=password, email="")
    print(f"已建立管理员 {username}")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    _setup_django()
    from zhibu.core.backup import backup_to

    out = Path(args.output)
    if out.exists() and not args.force:
        raise CommandError(f"文件已存在：{out}（可用 --force 覆盖）")
    summary = backup_to(out)
    print(summary)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"找不到备份文件：{path}")
    _setup_django()
    _migrate()
    from zhibu.core.backup import restore_from
    from zhibu.core.errors import ServiceError

    try:
        summary = restore_from(path)
    except ServiceError as exc:
        raise CommandError(exc.message) from exc
    print(summary)
    return 0


# The working-day calendar ---------------------------------------------------------------------------------


def _parse_date(text: str) -> Any:
    import datetime as dt

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(f"“{text}”不是有效的日期，应写成 YYYY-MM-DD，如 2027-02-14") from None


def _iso_date(text: str) -> Any:
    """An argparse type: a date written YYYY-MM-DD (a bad one exits 2 with the reason in Chinese)."""
    import datetime as dt

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"“{text}”不是有效的日期，应写成 YYYY-MM-DD") from None


def _calendar_service(call: Any) -> Any:
    from zhibu.core.errors import ServiceError

    try:
        return call()
    except ServiceError as exc:
        raise CommandError(exc.message) from exc


def cmd_calendar_help(args: argparse.Namespace) -> int:
    args.calendar_parser.print_help()
    return 2


def cmd_calendar_show(args: argparse.Namespace) -> int:
    if not 1900 <= args.year <= 2200:
        raise CommandError("年份应在 1900 至 2200 之间")
    _ready()
    from zhibu.core.calendar import WEEKDAY_NAMES, DayKind, DaySource, WorkdayCalendar

    calendar = WorkdayCalendar.load([args.year])
    source = calendar.year_source(args.year)
    if source is DaySource.ESTIMATE:
        print(f"{args.year} 年：放假安排尚未公布，按周一至周五估算（估算）")
    else:
        note = calendar.year_note(args.year)
        print(f"{args.year} 年：{source.label}（已知）" + (f"，依据：{note}" if note else ""))
    days = calendar.year_days(args.year)
    holidays = [d for d in days if d.kind is DayKind.HOLIDAY and d.source is not DaySource.OVERRIDE]
    print("放假：" if holidays else "放假：无")
    for first, last, name in _runs(holidays):
        span = f"{first:%Y-%m-%d}" if first == last else f"{first:%Y-%m-%d} 至 {last:%Y-%m-%d}"
        print(f"  {span}  {name}（{(last - first).days + 1} 天）")
    makeup = [d for d in days if d.kind is DayKind.MAKEUP and d.source is not DaySource.OVERRIDE]
    print("调休上班：" if makeup else "调休上班：无")
    for d in makeup:
        print(f"  {d.date:%Y-%m-%d} {WEEKDAY_NAMES[d.date.weekday()]}  {d.name}")
    overrides = [d for d in days if d.source is DaySource.OVERRIDE]
    if overrides:
        print("单日调整：")
        for d in overrides:
            print(
                f"  {d.date:%Y-%m-%d} {WEEKDAY_NAMES[d.date.weekday()]}  {'上班' if d.is_workday else '放假'}"
                f"  {d.name}"
            )
    workdays = sum(d.is_workday for d in days)
    print(f"全年工作日：{workdays} 天" + ("（估算）" if source is DaySource.ESTIMATE else ""))
    return 0


def _runs(days: list[Any]) -> list[tuple[Any, Any, str]]:
    """Consecutive days with the same name, as (first, last, name)."""
    import datetime as dt

    runs: list[tuple[Any, Any, str]] = []
    for d in days:
        if runs and runs[-1][2] == d.name and runs[-1][1] + dt.timedelta(days=1) == d.date:
            runs[-1] = (runs[-1][0], d.date, d.name)
        else:
            runs.append((d.date, d.date, d.name))
    return runs


def cmd_calendar_load(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"找不到文件：{path}")
    _ready()
    from zhibu.core.calendar_services import calendar_year_load_file

    content = path.read_bytes()
    cy = _calendar_service(
        lambda: calendar_year_load_file(
            actor=_system_actor(), scope=_admin_scope(), content=content, filename=path.name, year=args.year
        )
    )
    days = list(cy.days.all())
    holidays = sum(not d.is_workday for d in days)
    print(f"已载入 {cy.year} 年放假安排：放假 {holidays} 天，调休上班 {len(days) - holidays} 天")
    return 0


def cmd_calendar_set(args: argparse.Namespace) -> int:
    if args.workday == args.holiday:
        raise CommandError("请用 --workday 或 --holiday 指明这一天上班还是放假（二者选一）")
    date = _parse_date(args.date)
    _ready()
    from zhibu.core.calendar_services import calendar_day_set

    day = _calendar_service(
        lambda: calendar_day_set(
            actor=_system_actor(),
            scope=_admin_scope(),
            date=date,
            is_workday=args.workday,
            name=args.name or "",
            note=args.note or "",
        )
    )
    print(f"已设置 {day.date:%Y-%m-%d} 为{'上班' if day.is_workday else '放假'}（{day.name}）")
    return 0


def cmd_calendar_clear(args: argparse.Namespace) -> int:
    date = _parse_date(args.date)
    _ready()
    from zhibu.core.calendar_services import calendar_day_clear

    _calendar_service(lambda: calendar_day_clear(actor=_system_actor(), scope=_admin_scope(), date=date))
    print(f"已清除 {date:%Y-%m-%d} 的单日调整，该日按放假安排计算")
    return 0


class ChineseRawHelpFormatter(argparse.RawDescriptionHelpFormatter, ChineseHelpFormatter):
    """Keeps the line breaks of a long epilog (a file format with examples)."""


CALENDAR_FILE_HELP = """\
一年的放假安排文件（YAML 或 CSV，UTF-8；CSV 也可为 GBK）。日期写 YYYY-MM-DD，
一段日期写 YYYY-MM-DD~YYYY-MM-DD（含两端，最长 31 天）。每个日期只能出现一次，
须在该年之内，并须有名称；有任何错误时不作任何改动，并指出出错的行。
载入后该年按此安排计算（取代 chinesecalendar 的数据），单日调整仍然优先。

YAML 示例：
  year: 2027
  note: 国务院办公厅关于2027年部分节假日安排的通知
  holidays:
    - {date: 2027-01-01, name: 元旦}
    - {date: 2027-02-06~2027-02-12, name: 春节}
  workdays:
    - {date: 2027-02-14, name: 春节调休上班}
（键也可写作 年份、依据、放假、上班、日期、名称）

CSV 示例（首行“年份”可省略，改用 --year 指定）：
  年份,2027
  日期,类型,名称
  2027-01-01,放假,元旦
  2027-02-06~2027-02-12,放假,春节
  2027-02-14,上班,春节调休上班
（类型：放假 或 上班；表头也可写作 date,kind,name）
"""


def _add_calendar_parser(add: Any) -> None:
    """The `zhibu calendar` command and its subcommands."""
    p = add("calendar", "工作日历：查看、载入一年的放假安排，设置或清除单日调整")
    p.set_defaults(func=cmd_calendar_help, calendar_parser=p)
    sub = p.add_subparsers(dest="calendar_command", title="子命令", metavar="子命令")

    def add_sub(name: str, help_text: str, epilog: str | None = None) -> argparse.ArgumentParser:
        sp = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=epilog,
            formatter_class=ChineseRawHelpFormatter if epilog else ChineseHelpFormatter,
            add_help=False,
        )
        sp.add_argument("-h", "--help", action="help", help="显示帮助并退出")
        sp._optionals.title = "选项"
        sp._positionals.title = "参数"
        sp.error = (lambda parser: lambda message: _fail(parser, message))(sp)  # type: ignore[method-assign]
        return sp

    sp = add_sub("show", "显示一年的放假和调休上班日期，以及该年是否已知（否则为估算）")
    sp.add_argument("year", type=int, help="年份，如 2027")
    sp.set_defaults(func=cmd_calendar_show)

    sp = add_sub("load", "从文件载入一年的放假安排（取代该年原有的安排）", CALENDAR_FILE_HELP)
    sp.add_argument("file", help="放假安排文件（.yaml、.yml 或 .csv），格式见下")
    sp.add_argument("--year", type=int, help="年份；文件中未写明年份时必填，写明时须一致")
    sp.set_defaults(func=cmd_calendar_load)

    sp = add_sub("set", "把某一天设为上班或放假（单日调整，优先于放假安排）")
    sp.add_argument("date", help="日期，如 2027-02-14")
    sp.add_argument("--workday", action="store_true", help="设为上班（如调休上班）")
    sp.add_argument("--holiday", action="store_true", help="设为放假")
    sp.add_argument("--name", help="名称，如 春节、调休上班（默认：调休上班 或 放假）")
    sp.add_argument("--note", help="说明")
    sp.set_defaults(func=cmd_calendar_set)

    sp = add_sub("clear", "清除某一天的单日调整，恢复按放假安排计算")
    sp.add_argument("date", help="日期，如 2027-02-14")
    sp.set_defaults(func=cmd_calendar_clear)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="zhibu",
        description="支部：学校党建工作系统的运维命令",
        formatter_class=ChineseHelpFormatter,
        add_help=False,
    )
    parser.add_argument("-h", "--help", action="help", help="显示帮助并退出")
    parser._optionals.title = "选项"
    sub = parser.add_subparsers(dest="command", title="命令", metavar="命令")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name, help=help_text, description=help_text, formatter_class=ChineseHelpFormatter, add_help=False
        )
        p.add_argument("-h", "--help", action="help", help="显示帮助并退出")
        p._optionals.title = "选项"
        p._positionals.title = "参数"
        return p

    p = add("run", "准备数据库（新库时生成演示数据）并启动网站")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=int, default=8000, help="端口（默认 8000）")
    p.add_argument("--workers", type=int, default=2, help="进程数（默认 2）")
    p.add_argument("--no-demo", action="store_true", help="新数据库时不生成演示数据")
    p.set_defaults(func=cmd_run)

    p = add("worker", "运行后台任务进程：每日检查、到期提醒和邮件发送（zhibu run 会自动启动一个）")
    p.add_argument("--batch", action="store_true", help="只运行已排队的任务，然后退出")
    p.add_argument("--interval", type=float, default=1.0, help="无任务时每隔多少秒查看一次（默认 1）")
    p.add_argument("--no-schedule", action="store_true", help="不自动安排每日任务（只运行排队的任务）")
    p.add_argument("--verbose", action="store_true", help="输出每个任务的运行记录")
    p.set_defaults(func=cmd_worker)

    p = add("remind", "立即生成到期提醒（即将到期、已逾期的检查结果），同一天不重复提醒")
    p.set_defaults(func=cmd_remind)

    p = add("nightly", "立即按本年度检查每个顶级党组织（与每日自动检查相同）")
    p.set_defaults(func=cmd_nightly)

    p = add("demo", "生成演示数据：一个教育工委及其下属学校")
    p.add_argument("--schools", type=int, default=1, help="学校数量（默认 1）")
    p.add_argument("--seed", type=int, default=1, help="随机种子，相同种子生成相同数据（默认 1）")
    p.add_argument("--force", action="store_true", help="数据库非空时仍然追加")
    p.add_argument(
        "--as-of",
        type=_iso_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="演示数据以哪一天为“今天”（默认今天；相同种子和日期生成相同数据）",
    )
    p.set_defaults(func=cmd_demo)

    p = add("import-people", "从 Excel（.xlsx）或 CSV 文件导入人员名册")
    p.add_argument("file", help="文件路径")
    p.add_argument("--org", required=True, help="导入到哪个党组织（组织代码）；表中的“所在支部”须在其下")
    p.add_argument(
        "--partial", action="store_true", help="跳过有错误的行，只导入无误的行（默认全部无误才导入）"
    )
    p.set_defaults(func=cmd_import_people)

    p = add("export-people", "把一个党组织（含下级）的人员导出为 Excel")
    p.add_argument("--org", required=True, help="党组织代码")
    p.add_argument("-o", "--output", required=True, help="输出文件（.xlsx）")
    p.set_defaults(func=cmd_export_people)

    p = add("check", "按制度包检查一个党组织（含下级）并保存结果，列出需要处理的问题")
    p.add_argument("--org", required=True, help="党组织代码")
    p.add_argument("--year", type=int, required=True, help="检查年度，如 2026")
    p.add_argument("--json", action="store_true", help="以 JSON 列表输出（字段见 README）")
    p.add_argument("--all", action="store_true", help="也列出正常（ok）的结果")
    p.set_defaults(func=cmd_check)

    p = add("createadmin", "建立系统管理员账户")
    p.add_argument("--username", help="用户名；密码从终端输入或取自环境变量 ZHIBU_ADMIN_PASSWORD")
    p.set_defaults(func=cmd_createadmin)

    p = add("backup", "把全部数据和附件备份到一个文件")
    p.add_argument("-o", "--output", required=True, help="备份文件路径（.zip）")
    p.add_argument("--force", action="store_true", help="覆盖已存在的文件")
    p.set_defaults(func=cmd_backup)

    p = add("restore", "从备份文件恢复到空数据库")
    p.add_argument("file", help="备份文件路径")
    p.set_defaults(func=cmd_restore)

    _add_calendar_parser(add)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    # argparse's own messages are English; put the essential ones in Chinese.
    parser.error = lambda message: _fail(parser, message)  # type: ignore[method-assign]
    for action in parser._subparsers._group_actions if parser._subparsers else []:  # type: ignore[union-attr]
        for sp in getattr(action, "choices", {}).values():
            sp.error = (lambda p: lambda message: _fail(p, message))(sp)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except CommandError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        # An operator gets a sentence, not a traceback; ZHIBU_DEBUG=1 shows the traceback for a bug report.
        if os.environ.get("ZHIBU_DEBUG") == "1":
            raise
        print(
            f"错误：命令未完成（{type(exc).__name__}：{exc}）。设置 ZHIBU_DEBUG=1 可查看详细信息。",
            file=sys.stderr,
        )
        return 1


def _fail(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    translated = (
        message.replace("the following arguments are required", "缺少必需的参数")
        .replace("unrecognized arguments", "无法识别的参数")
        .replace("invalid int value", "不是整数")
        .replace("invalid choice", "无效的选择")
        .replace("argument ", "参数 ")
        .replace("expected one argument", "需要一个值")
    )
    parser.print_usage(sys.stderr)
    print(f"错误：{translated}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    sys.exit(main())
