"""Hugging Face Space: speech emotion recognition with file upload and live microphone streaming."""

from ser_hf.demo import build_demo, launch

demo = build_demo()

if __name__ == "__main__":
    launch(demo)
