from latent_odyssey.train.extra import train_main

raise SystemExit(train_main())
