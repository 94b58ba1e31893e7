from latent_odyssey.train.extra import export_main

raise SystemExit(export_main())
