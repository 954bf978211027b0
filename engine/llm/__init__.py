"""The LLM layer: provider protocol, gateway, prompts, response models and providers."""
