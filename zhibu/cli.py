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


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)


def _database_is_new() -> bool:
    from zhibu.orgs.models import Organization

    return not Organization.objects.exists()


def _system_actor() -> Any:
    return None


def _admin_scope() -> Any:
    from zhibu.core.scoping import Scope

    return Scope(user_id=None, manage_paths=("/",), view_paths=("/",), can_reveal_id=True, is_admin=True)


def cmd_run(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command

    print("正在准备数据库……", flush=True)
    _migrate()
    call_command("collectstatic", interactive=False, verbosity=0)
    if _database_is_new() and not args.no_demo:
        print("新数据库：正在生成演示数据（1所学校）……", flush=True)
        from zhibu.demo import build_demo

        result = build_demo(schools=1, seed=1)
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
    try:
        return subprocess.call(command)  # noqa: S603  (fixed argv, our own interpreter)
    except KeyboardInterrupt:
        return 0


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
    from zhibu.demo import build_demo

    result = build_demo(schools=args.schools, seed=args.seed, progress=print)
    print(f"已生成：{result.schools} 所学校，{result.orgs} 个党组织，{result.people} 名人员")
    print(f"用时 {result.seconds:.1f} 秒")
    _print_logins(result.logins)
    return 0


def cmd_import_people(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise CommandError(f"找不到文件：{path}")
    _setup_django()
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
    _setup_django()
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
    with out.open("wb") as fh:
        count = export_people_xlsx(people, fh, title=org.name)
    print(f"已导出 {count} 人到 {out}")
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

    p = add("demo", "生成演示数据：一个教育工委及其下属学校")
    p.add_argument("--schools", type=int, default=1, help="学校数量（默认 1）")
    p.add_argument("--seed", type=int, default=1, help="随机种子，相同种子生成相同数据（默认 1）")
    p.add_argument("--force", action="store_true", help="数据库非空时仍然追加")
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
