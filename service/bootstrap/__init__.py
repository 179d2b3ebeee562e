"""One process's composition root: `Bootstrap` builds its parts, `stores` the stores."""
