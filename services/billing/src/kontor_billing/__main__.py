import sys

if sys.argv[1:2] == ["verify-audit"]:
    from kontor_billing.audit_command import main

    raise SystemExit(main())

from kontor_billing.main import run

run()
