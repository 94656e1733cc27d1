import sys

if sys.argv[1:2] == ["verify-audit"]:
    from kontor_billing.audit_command import main

    raise SystemExit(main())

if sys.argv[1:2] == ["retention"]:
    from kontor_billing.retention_command import main as retention_main

    raise SystemExit(retention_main(sys.argv[2:]))

from kontor_billing.main import run

run()
