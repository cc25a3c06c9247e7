from copilot_lsp.eval.command import main

raise SystemExit(main())
