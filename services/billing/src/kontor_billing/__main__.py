from kontor_billing.main import run

run()
