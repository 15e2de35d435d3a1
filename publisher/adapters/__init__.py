"""One adapter per platform behind one small interface (base.PlatformAdapter)."""
