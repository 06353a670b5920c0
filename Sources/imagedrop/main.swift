print("imagedrop")
