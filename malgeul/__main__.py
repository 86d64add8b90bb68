from malgeul.cli import main

raise SystemExit(main())
