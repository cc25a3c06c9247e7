from copilot_lsp.cli import main

raise SystemExit(main())
